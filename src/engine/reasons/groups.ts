/**
 * Memorization by group: for any column (a source, a split, an annotator), per value: rows, mean score percentile,
 * share in the top 10% by score, share of rows with each reason. "Top 10%" is percentile >= 90 on the pipeline's
 * percentile (100 = most memorized; with n rows that is the floor((n - 1) / 10) + 1 highest scores: 400 of 4,000).
 */
import {
  type GroupRow,
  type GroupTable,
  MISSING_GROUP,
  REASON_KINDS,
  type Reason,
  type ReasonKind,
} from '../../protocol/reasons';

export type { GroupRow, GroupTable };

export { MISSING_GROUP };
export const TOP_PERCENTILE = 90;

export function groupTable(
  groupOf: readonly (string | null | undefined)[],
  percentile: ArrayLike<number>,
  reasons?: readonly (readonly Reason[])[],
): GroupTable {
  const n = groupOf.length;
  if (percentile.length !== n || (reasons && reasons.length !== n))
    throw new Error(`groups: one group value, percentile and reason list per row expected (${n})`);
  const acc = new Map<string, Acc>();
  const all = newAcc();
  for (let i = 0; i < n; i++) {
    const v = groupOf[i];
    const name = v === null || v === undefined || v === '' ? MISSING_GROUP : v;
    let a = acc.get(name);
    if (!a) acc.set(name, (a = newAcc()));
    for (const t of [a, all]) add(t, percentile[i], reasons?.[i]);
  }
  const groups = [...acc.entries()]
    .map(([name, a]) => finish(name, a))
    .sort((p, q) => q.rows - p.rows || (p.group < q.group ? -1 : p.group > q.group ? 1 : 0));
  return { groups, all: finish('all', all) };
}

interface Acc {
  rows: number;
  sumPercentile: number;
  top: number;
  reasons: Record<ReasonKind, number>;
}

function newAcc(): Acc {
  return { rows: 0, sumPercentile: 0, top: 0, reasons: zeros() };
}

function zeros(): Record<ReasonKind, number> {
  return Object.fromEntries(REASON_KINDS.map((k) => [k, 0])) as Record<ReasonKind, number>;
}

function add(a: Acc, p: number, rs: readonly Reason[] | undefined): void {
  a.rows++;
  a.sumPercentile += p;
  if (p >= TOP_PERCENTILE) a.top++;
  // A row counts once per kind.
  if (rs) for (const k of new Set(rs.map((r) => r.kind))) a.reasons[k]++;
}

function finish(group: string, a: Acc): GroupRow {
  const reasons = zeros();
  for (const k of REASON_KINDS) reasons[k] = a.rows ? a.reasons[k] / a.rows : 0;
  return {
    group,
    rows: a.rows,
    meanPercentile: a.rows ? a.sumPercentile / a.rows : NaN,
    top10Share: a.rows ? a.top / a.rows : 0,
    reasons,
  };
}

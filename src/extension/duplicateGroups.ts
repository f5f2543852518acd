/**
 * The ranking panel's "Duplicates" view: the summary's groups of exact or near-identical texts (row indices), as
 * groups of rows with their labels side by side. Pure: no VS Code import (unit-tested).
 *
 * Order: groups with conflicting labels first (a label to fix), then the largest, then the one holding the most
 * memorized row. Within a group: the most common label first, then by rank, so a minority label stands at the end.
 */
import type { DuplicateGroupView, PanelFilter } from '../protocol/panel';
import { type PageSource, type RowText, keptRows, panelRows, reasonFilter } from './paging';

/** Rows listed per group at most (the view says how many more there are). */
export const MAX_GROUP_ROWS = 20;
/** Groups per page at most. */
export const MAX_GROUP_PAGE = 100;

export interface DuplicateGroup {
  /** Positions in the results' rows, in the view's order. */
  members: number[];
  labels: { label: string; count: number }[];
  conflict: boolean;
}

type Source = PageSource & { index: number };

/**
 * Resolves groups of row indices (ScoredRow.index) to rows of `rows`, drops indices the results do not hold and groups
 * left with fewer than two rows, and orders groups and rows as the view shows them.
 */
export function duplicateGroups(
  indexGroups: readonly (readonly number[])[],
  rows: readonly Source[],
): DuplicateGroup[] {
  const at = new Map(rows.map((r, i) => [r.index, i]));
  const groups: (DuplicateGroup & { best: number })[] = [];
  for (const g of indexGroups) {
    const members = [...new Set(g)].map((i) => at.get(i)).filter((i): i is number => i !== undefined);
    if (members.length < 2) continue;
    const count = new Map<string, number>();
    for (const m of members) count.set(rows[m].label, (count.get(rows[m].label) ?? 0) + 1);
    const labels = [...count]
      .map(([label, n]) => ({ label, count: n }))
      .sort((a, b) => b.count - a.count || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
    const order = new Map(labels.map((l, k) => [l.label, k]));
    members.sort(
      (a, b) => order.get(rows[a].label)! - order.get(rows[b].label)! || rows[a].rank - rows[b].rank,
    );
    const best = Math.min(...members.map((m) => rows[m].rank));
    groups.push({ members, labels, conflict: labels.length > 1, best });
  }
  groups.sort(
    (a, b) =>
      Number(b.conflict) - Number(a.conflict) || b.members.length - a.members.length || a.best - b.best,
  );
  return groups.map(({ members, labels, conflict }) => ({ members, labels, conflict }));
}

export interface DuplicatePageRequest {
  offset: number;
  limit: number;
  filter: PanelFilter;
}

/** Pages through the groups that hold at least one row passing the panel's filters; caches the last filter's groups. */
export class DuplicateQuery {
  private readonly groups: DuplicateGroup[];
  private cacheKey = '';
  private kept: DuplicateGroup[] | undefined;

  constructor(
    indexGroups: readonly (readonly number[])[],
    private readonly rows: readonly Source[],
    private readonly text: RowText,
    private readonly withHeat = true,
  ) {
    this.groups = duplicateGroups(indexGroups, rows);
  }

  /** Groups in the view, before any filter. */
  get size(): number {
    return this.groups.length;
  }

  /** Rows in any group. */
  get rowCount(): number {
    return this.groups.reduce((n, g) => n + g.members.length, 0);
  }

  async filtered(filter: PanelFilter): Promise<DuplicateGroup[]> {
    const label = filter.label ?? '';
    const reason = reasonFilter(filter.reason);
    const needle = (filter.text ?? '').trim().toLowerCase();
    const key = JSON.stringify([label, reason, needle]);
    if (this.kept && key === this.cacheKey) return this.kept;
    let kept = this.groups;
    if (label || reason || needle) {
      const pass = new Set(await keptRows(this.rows, this.text, { label, reason, text: needle }));
      kept = this.groups.filter((g) => g.members.some((m) => pass.has(m)));
    }
    this.cacheKey = key;
    this.kept = kept;
    return kept;
  }

  async page(req: DuplicatePageRequest): Promise<{ groups: DuplicateGroupView[]; total: number }> {
    const kept = await this.filtered(req.filter);
    const offset = Math.max(0, Math.floor(req.offset) || 0);
    const limit = Math.min(MAX_GROUP_PAGE, Math.max(0, Math.floor(req.limit) || 0));
    const slice = kept.slice(offset, offset + limit);
    const listed = slice.map((g) => g.members.slice(0, MAX_GROUP_ROWS));
    const rows = await panelRows(
      listed.flat().map((m) => this.rows[m]),
      this.text,
      this.withHeat,
    );
    let k = 0;
    const groups = slice.map((g, j) => ({
      position: offset + j,
      size: g.members.length,
      labels: g.labels,
      conflict: g.conflict,
      rows: rows.slice(k, (k += listed[j].length)),
    }));
    return { groups, total: kept.length };
  }
}

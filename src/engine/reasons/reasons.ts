/**
 * Why a row is memorized: a fixed vocabulary of reasons, each with evidence a user can check. The rules and their
 * thresholds are documented in the README ("Why a row is memorized"); keep it in step.
 *
 * Geometry: everything in feature space is cosine, on the head's input (pooled, standardized features), as in
 * neighbours.ts. A row can have several reasons; rows are 0-based `index` plus the 1-based `line` of the raw file.
 */
import {
  type ConflictEvidence,
  type DuplicateEvidence,
  type MislabeledEvidence,
  REASON_KINDS,
  type RareEvidence,
  type Reason,
  type ReasonKind,
  type RowRef,
  type TemplatedEvidence,
} from '../../protocol/reasons';
import type { Neighbours } from './neighbours';
import { unitRows } from './neighbours';
import type { TextDuplicates } from './textDuplicates';

export { REASON_KINDS };
export type {
  ConflictEvidence,
  DuplicateEvidence,
  MislabeledEvidence,
  RareEvidence,
  Reason,
  ReasonKind,
  RowRef,
  TemplatedEvidence,
};

export interface ReasonRules {
  /** Rows listed in an evidence list (the counts are complete). */
  listed: number;
  /** templated: neighbour similarity threshold and the least number of such same-label neighbours. */
  templatedSimilarity: number;
  templatedMin: number;
  /** rare: within-class percentile and ratio to the class median the distance must both reach. */
  rarePercentile: number;
  rareRatio: number;
  /** rare: classes smaller than this get no rare rows (a percentile of a handful of rows says little). */
  rareMinClassRows: number;
}

export const DEFAULT_RULES: ReasonRules = {
  listed: 10,
  templatedSimilarity: 0.95,
  templatedMin: 5,
  rarePercentile: 90,
  rareRatio: 1.25,
  rareMinClassRows: 20,
};

export interface ReasonInput {
  classes: readonly string[];
  /** Class index of each row's label. */
  y: ArrayLike<number>;
  /** The head's predicted class (argmax) of each row. */
  pred: ArrayLike<number>;
  /** 1-based raw-file line of each row. */
  lines: ArrayLike<number>;
  /** The head's input (n x dim, pooled and standardized), for `rare`. */
  X: ArrayLike<number>;
  /** Row i's row of X when rows share X's rows (HeadData.of). */
  of?: Int32Array;
  dim: number;
  neighbours: Neighbours;
  /** Text duplicates (absent for data without text: then no duplicate / conflict reasons). */
  duplicates?: TextDuplicates;
  /** Each row's self-influence with its own label (else asked from selfInfluenceWithLabel). */
  selfInfluence?: ArrayLike<number>;
  /** Self-influence of a row if its label were `classIndex` (same fitted head and solver). */
  selfInfluenceWithLabel?: (row: number, classIndex: number) => number;
  /**
   * The same for many rows at once (rows[t] with label classIndex[t]), for a solver that scores a batch in one pass;
   * used instead of selfInfluenceWithLabel when given.
   */
  selfInfluenceWithLabels?: (rows: Int32Array, classIndex: Int32Array) => ArrayLike<number>;
}

export interface ReasonsResult {
  /**
   * Per row, its reasons in REASON_KINDS order (empty when none applies): every row's, built on first use, with
   * the evidence that depends on a row only through its text group and label shared between rows.
   */
  readonly rows: Reason[][];
  /**
   * Row i's reasons, built when asked and not kept (what rows[i] holds, in new objects): for a caller that needs
   * one row at a time (`memscore score` writing --out), since every row's evidence at once is large (about 0.35 GB
   * for a million short rows).
   */
  reasonsOf(i: number): Reason[];
  /** Rows with each reason. */
  counts: Record<ReasonKind, number>;
  /** Rows with at least one reason. */
  withAnyReason: number;
  rules: ReasonRules;
}

/**
 * The reasons of every row. The rules that look at all rows at once (rare: class percentiles; mislabeled: the
 * self-influence under the predicted label, in one batch) run now; the per-row evidence lists (duplicates,
 * conflicts, templates) are built when a row's reasons are asked for, and counted now without being built.
 */
export function explainReasons(input: ReasonInput, rules: Partial<ReasonRules> = {}): ReasonsResult {
  const R = { ...DEFAULT_RULES, ...rules };
  const n = input.neighbours.n;
  if (input.y.length !== n || input.pred.length !== n || input.lines.length !== n)
    throw new Error(`reasons: y, pred and lines must have one entry per row (${n})`);
  const dup = input.duplicates ? new DuplicateReasons(input, input.duplicates, R) : undefined;
  const rare = rareEvidence(input, R);
  const mislabeled = mislabeledRows(input);
  const build = (i: number, shared?: SharedEvidence): Reason[] => {
    const out: Reason[] = [];
    const tally = dup?.tally(i);
    const du = tally && dup!.duplicate(i, tally, shared);
    if (du) out.push({ kind: 'duplicate', evidence: du });
    const co = tally && dup!.conflict(i, tally, shared);
    if (co) out.push({ kind: 'conflict', evidence: co });
    const m = mislabeled.get(i);
    if (m) out.push({ kind: 'mislabeled', evidence: m });
    if (rare[i]) out.push({ kind: 'rare', evidence: rare[i]! });
    const t = templatedEvidence(input, i, R);
    if (t) out.push({ kind: 'templated', evidence: t });
    // A pushed-to array keeps room for 17 entries: each row keeps an exact-size copy (a million rows hold these).
    return out.length ? out.slice() : out;
  };
  const counts = Object.fromEntries(REASON_KINDS.map((k) => [k, 0])) as Record<ReasonKind, number>;
  let withAnyReason = 0;
  for (let i = 0; i < n; i++) {
    const t = dup?.tally(i);
    let any = false;
    const count = (kind: ReasonKind, has: boolean) => {
      if (has) counts[kind]++;
      any ||= has;
    };
    count('duplicate', t !== undefined && t.same > 0);
    count('conflict', t !== undefined && t.other > 0);
    count('mislabeled', mislabeled.has(i));
    count('rare', rare[i] !== undefined);
    count('templated', templatedCount(input, i, R) >= R.templatedMin);
    if (any) withAnyReason++;
  }
  let all: Reason[][] | undefined;
  return {
    get rows() {
      if (!all) {
        const shared = newSharedEvidence(input.duplicates, input.classes.length);
        all = Array.from({ length: n }, (_, i) => build(i, shared));
      }
      return all;
    },
    reasonsOf: (i) => (all ? all[i] : build(i)),
    counts,
    withAnyReason,
    rules: R,
  };
}

/**
 * What rows[] shares between rows, built in row order: a row's exact copy is listed the same way in every list that
 * names it (one object per such row: a million short rows list ten copies each, ten million objects otherwise), and
 * evidence that depends on the row only through its group and label is built once per (group, label): a conflict
 * always (its rows carry another label, so never the row itself); a duplicate list from the row's listed+1-th copy
 * with its label on (the list is then the group's first `listed` such rows, none of them it).
 */
interface SharedEvidence {
  exactDuplicate: (DuplicateEvidence['rows'][number] | undefined)[];
  exactConflict: (ConflictEvidence['rows'][number] | undefined)[];
  duplicate: Map<number, DuplicateEvidence>;
  conflict: Map<number, ConflictEvidence>;
  /** Rows of each (group, label) built so far. */
  position: Int32Array;
}

function newSharedEvidence(d: TextDuplicates | undefined, C: number): SharedEvidence | undefined {
  if (!d) return undefined;
  return {
    exactDuplicate: new Array(d.n),
    exactConflict: new Array(d.n),
    duplicate: new Map(),
    conflict: new Map(),
    position: new Int32Array(d.members.length * C),
  };
}

/** A row's text copies: exact and near ones with its label (same = their sum), and rows with another label. */
interface Tally {
  exactSame: number;
  nearSame: number;
  same: number;
  other: number;
}

/** duplicate / conflict from the exact groups and near links, counted through per-group label histograms. */
class DuplicateReasons {
  private readonly C: number;
  private readonly hist: Int32Array;

  constructor(
    private readonly input: ReasonInput,
    private readonly d: TextDuplicates,
    private readonly R: ReasonRules,
  ) {
    const C = (this.C = input.classes.length);
    const m = d.members.length;
    const hist = (this.hist = new Int32Array(m * C));
    for (let g = 0; g < m; g++) for (const i of d.members[g]) hist[g * C + input.y[i]]++;
  }

  /** Row i's copies, exact and near, with its label and with another (undefined for a row without text). */
  tally(i: number): Tally | undefined {
    const { d, hist, C } = this;
    const g = d.group[i];
    if (g < 0) return undefined;
    const own = this.input.y[i];
    let nearSame = 0;
    let nearAll = 0;
    for (let t = d.linkOffsets[g]; t < d.linkOffsets[g + 1]; t++) {
      nearSame += hist[d.linkGroup[t] * C + own];
      nearAll += d.members[d.linkGroup[t]].length;
    }
    const exactSame = hist[g * C + own] - 1;
    const exactAll = d.members[g].length - 1;
    return {
      exactSame,
      nearSame,
      same: exactSame + nearSame,
      other: exactAll - exactSame + nearAll - nearSame,
    };
  }

  duplicate(i: number, t: Tally, shared?: SharedEvidence): DuplicateEvidence | undefined {
    const { d, hist, C, R } = this;
    const { y, lines } = this.input;
    const g = d.group[i];
    const own = y[i];
    const key = g * C + own;
    const late = shared ? shared.position[key]++ >= R.listed : false;
    const hit = late ? shared!.duplicate.get(key) : undefined;
    if (hit) return hit;
    if (t.same <= 0) return undefined;
    const listedRows: DuplicateEvidence['rows'] = [];
    const sameIn = (h: number) => hist[h * C + own] - (h === g ? 1 : 0);
    walkDuplicates(d, i, R.listed, sameIn, (j, exact, jaccard) => {
      if (y[j] !== own) return false;
      listedRows.push(
        exact && shared
          ? (shared.exactDuplicate[j] ??= { index: j, line: lines[j], exact, jaccard })
          : { index: j, line: lines[j], exact, jaccard },
      );
      return true;
    });
    const ev = {
      count: t.same,
      exact: t.exactSame,
      near: t.nearSame,
      rows: listedRows.slice(),
    };
    if (late) shared!.duplicate.set(key, ev);
    return ev;
  }

  conflict(i: number, t: Tally, shared?: SharedEvidence): ConflictEvidence | undefined {
    const { d, hist, C, R } = this;
    const { y, lines, classes } = this.input;
    const g = d.group[i];
    const own = y[i];
    const key = g * C + own;
    const hit = shared?.conflict.get(key);
    if (hit) return hit;
    const other = t.other;
    if (other <= 0) return undefined;
    const labels: Record<string, number> = {};
    for (let c = 0; c < C; c++) {
      if (c === own) continue;
      let k = hist[g * C + c];
      for (let u = d.linkOffsets[g]; u < d.linkOffsets[g + 1]; u++) k += hist[d.linkGroup[u] * C + c];
      if (k) labels[classes[c]] = k;
    }
    const listedRows: ConflictEvidence['rows'] = [];
    const otherIn = (h: number) => d.members[h].length - hist[h * C + own];
    walkDuplicates(d, i, R.listed, otherIn, (j, exact, jaccard) => {
      if (y[j] === own) return false;
      listedRows.push(
        exact && shared
          ? (shared.exactConflict[j] ??= { index: j, line: lines[j], label: classes[y[j]], exact, jaccard })
          : { index: j, line: lines[j], label: classes[y[j]], exact, jaccard },
      );
      return true;
    });
    const ev = { count: other, labels, rows: listedRows.slice() };
    shared?.conflict.set(key, ev);
    return ev;
  }
}

/**
 * Visits row i's duplicates (exact first, then near by similarity) until `take` of them were accepted. `wanted(h)`
 * is how many rows of group h (other than i) accept would take, so a big group of copies is walked only as far as
 * its acceptable rows go.
 */
function walkDuplicates(
  d: TextDuplicates,
  i: number,
  take: number,
  wanted: (group: number) => number,
  accept: (j: number, exact: boolean, jaccard: number) => boolean,
): void {
  const g = d.group[i];
  let taken = 0;
  const visit = (h: number, exact: boolean, jaccard: number) => {
    let left = wanted(h);
    for (const j of d.members[h]) {
      if (taken >= take || left <= 0) return;
      if (j !== i && accept(j, exact, jaccard)) {
        taken++;
        left--;
      }
    }
  };
  visit(g, true, 1);
  for (let t = d.linkOffsets[g]; t < d.linkOffsets[g + 1] && taken < take; t++)
    visit(d.linkGroup[t], false, d.linkJaccard[t]);
}

/** mislabeled: the head predicts c != y and c is strictly the most common label among the row's neighbours. */
function mislabeledEvidence(input: ReasonInput, i: number): MislabeledEvidence | undefined {
  const { y, pred, neighbours: nb, classes } = input;
  const c = pred[i];
  const own = y[i];
  if (c === own) return undefined;
  const votes = new Int32Array(classes.length);
  let k = 0;
  for (let j = 0; j < nb.k; j++) {
    const t = nb.index[i * nb.k + j];
    if (t < 0) continue;
    votes[y[t]]++;
    k++;
  }
  if (!k) return undefined;
  for (let o = 0; o < classes.length; o++) if (o !== c && votes[o] >= votes[c]) return undefined;
  return {
    predicted: classes[c],
    k,
    ownLabelShare: votes[own] / k,
    predictedShare: votes[c] / k,
  };
}

/**
 * The mislabeled rows with their evidence, and for each the self-influence with its own and with the predicted
 * label (asked for all of them in one batch when the input can).
 */
function mislabeledRows(input: ReasonInput): Map<number, MislabeledEvidence> {
  const out = new Map<number, MislabeledEvidence>();
  const n = input.neighbours.n;
  for (let i = 0; i < n; i++) {
    const ev = mislabeledEvidence(input, i);
    if (ev) out.set(i, ev);
  }
  const { selfInfluenceWithLabel: one, selfInfluenceWithLabels: many } = input;
  if (!one && !many) return out;
  const rows = Int32Array.from(out.keys());
  const siOwn = new Float64Array(rows.length);
  const siPred = new Float64Array(rows.length);
  if (many) {
    if (input.selfInfluence) rows.forEach((i, t) => (siOwn[t] = input.selfInfluence![i]));
    else
      siOwn.set(
        many(
          rows,
          Int32Array.from(rows, (i) => input.y[i]),
        ),
      );
    siPred.set(
      many(
        rows,
        Int32Array.from(rows, (i) => input.pred[i]),
      ),
    );
  } else
    rows.forEach((i, t) => {
      siOwn[t] = input.selfInfluence ? input.selfInfluence[i] : one!(i, input.y[i]);
      siPred[t] = one!(i, input.pred[i]);
    });
  rows.forEach((i, t) => {
    const ev = out.get(i)!;
    const si = siOwn[t];
    ev.selfInfluence = si;
    ev.selfInfluenceIfPredicted = siPred[t];
    ev.selfInfluenceDrop = si > 0 ? (si - siPred[t]) / si : 0;
  });
  return out;
}

/**
 * rare: a correctly predicted row whose cosine distance to its class centroid (the mean of the class's rows of X)
 * is at least the rarePercentile-th percentile of its class and at least rareRatio times the class median.
 */
function rareEvidence(input: ReasonInput, R: ReasonRules): (RareEvidence | undefined)[] {
  const { X, dim: D, y, pred, classes } = input;
  const n = y.length;
  const C = classes.length;
  if (input.of ? input.of.length !== n : X.length !== n * D)
    throw new Error(`reasons: X has ${X.length} values, expected ${n} x ${D}`);
  const { distance, classRows } = centroidDistances(X, n, D, y, C, input.of);
  const out: (RareEvidence | undefined)[] = new Array(n);
  for (let c = 0; c < C; c++) {
    const rowsOf = classRows[c];
    const m = rowsOf.length;
    if (m < R.rareMinClassRows) continue;
    const sorted = Float64Array.from(rowsOf, (i) => distance[i]).sort();
    const median = m % 2 ? sorted[(m - 1) / 2] : (sorted[m / 2 - 1] + sorted[m / 2]) / 2;
    for (const i of rowsOf) {
      if (pred[i] !== y[i]) continue;
      const dist = distance[i];
      const percentile = (100 * lowerBound(sorted, dist)) / (m - 1);
      const ratio = median > 0 ? dist / median : Infinity;
      if (percentile >= R.rarePercentile && ratio >= R.rareRatio)
        out[i] = { distance: dist, classMedian: median, ratio, percentile };
    }
  }
  return out;
}

/** Each row's cosine distance to its class centroid (the mean of the class's rows of X), and the rows of each class. */
export function centroidDistances(
  X: ArrayLike<number>,
  n: number,
  D: number,
  y: ArrayLike<number>,
  C: number,
  of?: Int32Array,
): { distance: Float64Array; classRows: number[][] } {
  const centroid = new Float64Array(C * D);
  const classRows: number[][] = Array.from({ length: C }, () => []);
  for (let i = 0; i < n; i++) {
    classRows[y[i]].push(i);
    const o = (of ? of[i] : i) * D;
    for (let d = 0; d < D; d++) centroid[y[i] * D + d] += X[o + d];
  }
  // Only directions matter: the class sums need no division by the class size. Each row is scaled to unit length
  // as unitRows does (the same operations, so the same values) as it is used, not copied.
  const unitCentroid = unitRows(centroid, C, D);
  const distance = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const o = (of ? of[i] : i) * D;
    let ss = 0;
    for (let d = 0; d < D; d++) ss += X[o + d] * X[o + d];
    const inv = ss > 0 ? 1 / Math.sqrt(ss) : 0;
    let s = 0;
    for (let d = 0; d < D; d++) s += X[o + d] * inv * unitCentroid[y[i] * D + d];
    distance[i] = 1 - s;
  }
  return { distance, classRows };
}

/** Number of entries of the ascending array below v. */
function lowerBound(sorted: Float64Array, v: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function isLinked(d: TextDuplicates, g: number, h: number): boolean {
  for (let t = d.linkOffsets[g]; t < d.linkOffsets[g + 1]; t++) if (d.linkGroup[t] === h) return true;
  return false;
}

/** templated: at least templatedMin neighbours with the row's label at similarity >= templatedSimilarity. */
function templatedEvidence(input: ReasonInput, i: number, R: ReasonRules): TemplatedEvidence | undefined {
  const { lines, neighbours: nb } = input;
  const rows: TemplatedEvidence['rows'] = [];
  const count = templatedCount(input, i, R, (j) => {
    if (rows.length < R.listed)
      rows.push({
        index: nb.index[i * nb.k + j],
        line: lines[nb.index[i * nb.k + j]],
        similarity: nb.similarity[i * nb.k + j],
      });
  });
  if (count < R.templatedMin) return undefined;
  return { count, k: nb.k, similarity: R.templatedSimilarity, rows: rows.slice() };
}

/** Row i's template neighbours (each told to `each` by its position in the row's list), counted. */
function templatedCount(input: ReasonInput, i: number, R: ReasonRules, each?: (j: number) => void): number {
  const { y, neighbours: nb, duplicates: d } = input;
  const g = d ? d.group[i] : -1;
  let count = 0;
  for (let j = 0; j < nb.k; j++) {
    const t = nb.index[i * nb.k + j];
    if (t < 0 || y[t] !== y[i] || !(nb.similarity[i * nb.k + j] >= R.templatedSimilarity)) continue;
    // A text duplicate is reported as `duplicate`, not as a template.
    if (d && g >= 0 && (d.group[t] === g || isLinked(d, g, d.group[t]))) continue;
    count++;
    each?.(j);
  }
  return count;
}

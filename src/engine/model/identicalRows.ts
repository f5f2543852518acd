/**
 * Identical rows, merged: a data operation shared by training (the linear head's weighted passes), scoring
 * (influence/scores.ts scores each distinct row once) and prepare() (which stores each distinct row's features once,
 * HeadData.of), so it belongs to none of them. Also the row accessors for data whose rows share X's rows.
 */
import type { HeadData } from './head';

/**
 * Rows with bitwise-identical features and the same label (a short-text file repeats its texts: 1,000,000 two-word
 * rows hold 172,532 distinct vectors) contribute identical terms to R, its gradient and its curvature, so the heavy
 * passes run once per distinct (x, y) with the copy count as a weight. The sums then run in another order: the
 * results agree to rounding (test/unit/linearMerge.test.ts). Used when it removes at least a fifth of the rows, and
 * always for data whose rows already share X's rows (then X itself is the distinct rows' matrix: nothing is copied).
 */
export interface MergedRows {
  n: number;
  /**
   * The distinct rows (first copies, in input order), their copy counts and each row's distinct row (`distinctOf`);
   * undefined when not worth it.
   */
  merged?: { X: Float64Array; y: Int32Array; n: number; w: Float64Array; distinctOf: Int32Array };
}
/** Distinct rows up to this share of the rows are worth merging (and prepare() worth sharing). */
export const MERGE_BELOW = 0.8;
const mergedRows = new WeakMap<HeadData, MergedRows>();

/** The distinct (x, y) rows of data with their counts, cached per data object (undefined: fewer than a fifth repeat). */
export function mergeIdenticalRows(data: HeadData, D: number): MergedRows['merged'] {
  const hit = mergedRows.get(data);
  if (hit && hit.n === data.n) return hit.merged;
  const merged = data.of ? mergeShared(data, D, data.of) : mergeOwn(data, D);
  mergedRows.set(data, { n: data.n, merged });
  return merged;
}

/** Shared rows are distinct (x, y) pairs already: their labels and copy counts. */
function mergeShared(data: HeadData, D: number, of: Int32Array): MergedRows['merged'] {
  const m = data.X.length / D;
  const y = new Int32Array(m);
  const w = new Float64Array(m);
  for (let i = 0; i < data.n; i++) {
    y[of[i]] = data.y[i];
    w[of[i]]++;
  }
  return { X: data.X, y, n: m, w, distinctOf: of };
}

function mergeOwn(data: HeadData, D: number): MergedRows['merged'] {
  const { X, y, n } = data;
  const bits = new Uint32Array(X.buffer, X.byteOffset, 2 * n * D);
  let size = 1;
  while (size < 2 * n) size *= 2;
  const table = new Int32Array(size).fill(-1); // open addressing: slot -> distinct index
  const first: number[] = [];
  const of = new Int32Array(n);
  const limit = MERGE_BELOW * n;
  for (let i = 0; i < n; i++) {
    let slot = rowHash(bits, i * 2 * D, 2 * D, y[i]) & (size - 1);
    for (;;) {
      const v = table[slot];
      if (v < 0) {
        table[slot] = of[i] = first.length;
        first.push(i);
        if (first.length > limit) return undefined;
        break;
      }
      if (y[first[v]] === y[i] && sameBits(bits, first[v] * 2 * D, bits, i * 2 * D, 2 * D)) {
        of[i] = v;
        break;
      }
      slot = (slot + 1) & (size - 1);
    }
  }
  const m = first.length;
  const Xm = new Float64Array(m * D);
  const ym = new Int32Array(m);
  const w = new Float64Array(m);
  for (let v = 0; v < m; v++) {
    Xm.set(X.subarray(first[v] * D, (first[v] + 1) * D), v * D);
    ym[v] = y[first[v]];
  }
  for (let i = 0; i < n; i++) w[of[i]]++;
  return { X: Xm, y: ym, n: m, w, distinctOf: of };
}

/**
 * FNV-1a over `len` 32-bit words of bits from `at`, seeded with a label, finished so the low bits mix. A signed
 * 32-bit result: a small integer to V8, so a Map keyed by it hashes no heap numbers.
 */
export function rowHash(bits: Uint32Array, at: number, len: number, label: number): number {
  let h = Math.imul(0x811c9dc5 ^ label, 0x01000193);
  for (let t = at, e = at + len; t < e; t++) h = Math.imul(h ^ bits[t], 0x01000193);
  return (h ^ (h >>> 15)) | 0;
}

export function sameBits(a: Uint32Array, at: number, b: Uint32Array, bt: number, len: number): boolean {
  for (let t = 0; t < len; t++) if (a[at + t] !== b[bt + t]) return false;
  return true;
}

// --- rows that share X's rows (HeadData.of) ---

/** Row i's row of data.X. */
export function featureRow(data: HeadData, i: number): number {
  return data.of ? data.of[i] : i;
}

/** The features of rows [from, from + m) as one m x D block: a view of X when every row has its own, else a copy. */
export function featureBlock(data: HeadData, D: number, from: number, m: number): Float64Array {
  if (!data.of) return data.X.subarray(from * D, (from + m) * D);
  return gatherFeatures(
    data,
    D,
    Int32Array.from({ length: m }, (_, k) => from + k),
  );
}

/** The features of the rows `rows` (in that order), one after another, into out (rows.length x D at least). */
export function gatherFeatures(
  data: HeadData,
  D: number,
  rows: ArrayLike<number>,
  out = new Float64Array(rows.length * D),
): Float64Array {
  for (let k = 0; k < rows.length; k++) {
    const r = featureRow(data, rows[k]);
    out.set(data.X.subarray(r * D, (r + 1) * D), k * D);
  }
  return out;
}

const expanded = new WeakMap<HeadData, HeadData>();

/**
 * data with a row of X for every row (data itself when it has one): for the code paths that have not learned to
 * share (the MLP head, EK-FAC's factors). Cached per data object, so identity checks on it keep working.
 */
export function ownRows(data: HeadData, D: number): HeadData {
  if (!data.of) return data;
  let own = expanded.get(data);
  if (!own) {
    own = { X: featureBlock(data, D, 0, data.n), y: data.y, n: data.n };
    expanded.set(data, own);
  }
  return own;
}

/**
 * Identical rows, merged: a data operation shared by training (the linear head's weighted passes) and scoring
 * (influence/scores.ts scores each distinct row once), so it belongs to neither.
 */
import type { HeadData } from './head';

/**
 * Rows with bitwise-identical features and the same label (a short-text file repeats its texts: 1,000,000 two-word
 * rows hold 172,532 distinct vectors) contribute identical terms to R, its gradient and its curvature, so the heavy
 * passes run once per distinct (x, y) with the copy count as a weight. The sums then run in another order: the
 * results agree to rounding (test/unit/linearMerge.test.ts). Used when it removes at least a fifth of the rows.
 */
export interface MergedRows {
  n: number;
  /**
   * The distinct rows (first copies, in input order), their copy counts and each row's distinct row (`of`);
   * undefined when not worth it.
   */
  merged?: { X: Float64Array; y: Int32Array; n: number; w: Float64Array; of: Int32Array };
}
const MERGE_BELOW = 0.8;
const mergedRows = new WeakMap<HeadData, MergedRows>();

/** The distinct (x, y) rows of data with their counts, cached per data object (undefined: fewer than a fifth repeat). */
export function mergeIdenticalRows(data: HeadData, D: number): MergedRows['merged'] {
  const hit = mergedRows.get(data);
  if (hit && hit.n === data.n) return hit.merged;
  const { X, y, n } = data;
  const bits = new Uint32Array(X.buffer, X.byteOffset, 2 * n * D);
  let size = 1;
  while (size < 2 * n) size *= 2;
  const table = new Int32Array(size).fill(-1); // open addressing: slot -> distinct index
  const first: number[] = [];
  const of = new Int32Array(n);
  const limit = MERGE_BELOW * n;
  let given = false;
  for (let i = 0; i < n && !given; i++) {
    let h = Math.imul(0x811c9dc5 ^ y[i], 0x01000193);
    for (let t = 2 * i * D, e = t + 2 * D; t < e; t++) h = Math.imul(h ^ bits[t], 0x01000193);
    let slot = (h ^ (h >>> 15)) & (size - 1);
    for (;;) {
      const v = table[slot];
      if (v < 0) {
        table[slot] = of[i] = first.length;
        first.push(i);
        if (first.length > limit) given = true;
        break;
      }
      const r = first[v];
      let same = y[r] === y[i];
      for (let t = 0; t < 2 * D && same; t++) same = bits[2 * r * D + t] === bits[2 * i * D + t];
      if (same) {
        of[i] = v;
        break;
      }
      slot = (slot + 1) & (size - 1);
    }
  }
  let merged: MergedRows['merged'];
  if (!given) {
    const m = first.length;
    const Xm = new Float64Array(m * D);
    const ym = new Int32Array(m);
    const w = new Float64Array(m);
    for (let v = 0; v < m; v++) {
      Xm.set(X.subarray(first[v] * D, (first[v] + 1) * D), v * D);
      ym[v] = y[first[v]];
    }
    for (let i = 0; i < n; i++) w[of[i]]++;
    merged = { X: Xm, y: ym, n: m, w, of };
  }
  mergedRows.set(data, { n, merged });
  return merged;
}

/**
 * The fallback alignment of a normalization: when the source units' normalizations do not concatenate to the whole
 * text's (normalize.ts), the two strings are aligned by edit distance.
 */
import type { Aligned } from './normalize';

/**
 * Edit-distance alignment of b = out.text (the normalized text) onto a (the per-unit normalizations, with origins):
 * equal or substituted characters take their partner's origin, inserted ones a point. Quadratic in the differing
 * middle part.
 */
export function editDistanceAlign(
  a: string,
  aStart: Int32Array,
  aEnd: Int32Array,
  out: Aligned,
  maxCells = 8_000_000,
): void {
  const b = out.text;
  // Common prefix and suffix are matched one to one.
  let p = 0;
  while (p < a.length && p < b.length && a[p] === b[p]) {
    out.start[p] = aStart[p];
    out.end[p] = aEnd[p];
    p++;
  }
  let s = 0;
  while (s < a.length - p && s < b.length - p && a[a.length - 1 - s] === b[b.length - 1 - s]) {
    out.start[b.length - 1 - s] = aStart[a.length - 1 - s];
    out.end[b.length - 1 - s] = aEnd[a.length - 1 - s];
    s++;
  }
  const m = a.length - p - s;
  const n = b.length - p - s;
  if (n === 0) return;
  const zeroAt = (i: number) => (i < a.length ? aStart[i] : a.length ? aEnd[a.length - 1] : 0);
  if (m === 0) {
    for (let j = 0; j < n; j++) out.start[p + j] = out.end[p + j] = zeroAt(p);
    return;
  }
  if ((m + 1) * (n + 1) > maxCells) {
    // Too long to align exactly: proportional mapping (approximate offsets).
    for (let j = 0; j < n; j++) {
      const i = p + Math.min(m - 1, Math.floor((j * m) / n));
      out.start[p + j] = aStart[i];
      out.end[p + j] = aEnd[i];
    }
    return;
  }
  // dir: 0 = diagonal (match/substitute), 1 = up (a[i] dropped), 2 = left (b[j] inserted).
  const W = n + 1;
  const dir = new Uint8Array((m + 1) * W);
  let prev = new Uint32Array(W);
  let cur = new Uint32Array(W);
  for (let j = 0; j <= n; j++) {
    prev[j] = j;
    dir[j] = 2;
  }
  for (let i = 1; i <= m; i++) {
    cur[0] = i;
    dir[i * W] = 1;
    const ai = a[p + i - 1];
    for (let j = 1; j <= n; j++) {
      const diag = prev[j - 1] + (ai === b[p + j - 1] ? 0 : 1);
      const up = prev[j] + 1;
      const left = cur[j - 1] + 1;
      let best = diag;
      let d = 0;
      if (up < best) {
        best = up;
        d = 1;
      }
      if (left < best) {
        best = left;
        d = 2;
      }
      cur[j] = best;
      dir[i * W + j] = d;
    }
    [prev, cur] = [cur, prev];
  }
  let i = m;
  let j = n;
  while (j > 0) {
    const d = i === 0 ? 2 : dir[i * W + j];
    if (d === 0) {
      out.start[p + j - 1] = aStart[p + i - 1];
      out.end[p + j - 1] = aEnd[p + i - 1];
      i--;
      j--;
    } else if (d === 1) i--;
    else {
      // An inserted character: zero width where the next source character starts.
      out.start[p + j - 1] = out.end[p + j - 1] = zeroAt(p + i);
      j--;
    }
  }
}

/**
 * Piece ranges in the encoded text: from the normalized text back to the source, without surrounding whitespace,
 * and widened to the piece's word.
 */
import { isSpaceCode } from './chars';
import type { Aligned } from './normalize';

/** [a, b) of an aligned (normalized) section starting at s0 of the text -> the range of the text it came from. */
export function toText(al: Aligned, s0: number, a: number, b: number): [number, number] {
  const n = al.text.length;
  if (b <= a) {
    const p = a < n ? al.start[a] : al.end[n - 1];
    return [s0 + p, s0 + p];
  }
  let lo = al.start[a];
  let hi = al.end[a];
  for (let k = a + 1; k < b; k++) {
    if (al.start[k] < lo) lo = al.start[k];
    if (al.end[k] > hi) hi = al.end[k];
  }
  return [s0 + lo, s0 + hi];
}

/** [a, b) of text without surrounding whitespace; unchanged if it is all whitespace. */
export function trim(text: string, [a, b]: [number, number]): [number, number] {
  let s = a;
  let e = b;
  while (s < e && isSpaceCode(text.charCodeAt(s))) s++;
  while (e > s && isSpaceCode(text.charCodeAt(e - 1))) e--;
  return s < e ? [s, e] : [a, b];
}

/**
 * The word of a piece at o: its pre-token word w, narrowed to the whitespace-free run around the piece
 * (pre-tokenizers such as Metaspace-only setups keep spaces inside words). A whitespace-only piece is its own word.
 */
export function wordOf(text: string, o: [number, number], w: [number, number]): [number, number] {
  if (o[1] > o[0]) {
    let blank = true;
    for (let k = o[0]; k < o[1] && blank; k++) blank = isSpaceCode(text.charCodeAt(k));
    if (blank) return o;
  }
  let s = Math.max(w[0], Math.min(o[0], w[1]));
  let e = Math.min(w[1], Math.max(o[1], s));
  while (s > w[0] && !isSpaceCode(text.charCodeAt(s - 1))) s--;
  while (e < w[1] && !isSpaceCode(text.charCodeAt(e))) e++;
  return [s, e];
}

/**
 * Where the model's pieces of one pre-token word lie in that word: matched in order after removing the continuation
 * marks ("##", end-of-word suffixes); byte-fallback pieces (<0xNN>) by their UTF-8 bytes; unknown pieces take the gap
 * up to the next matched piece (a WordPiece [UNK] is a whole word).
 */
import { decodeUtf8 } from './byteLevel';
import type { PieceMarks } from './config';

const BYTE_RE = /^<0x([0-9A-Fa-f]{2})>$/;

const isBytePiece = (t: string) => t.length === 6 && t.charCodeAt(0) === 60 /* < */ && BYTE_RE.test(t);

/** Unknown pieces `pending` share the gap [cursor, upTo) of word: one code point each, the last takes the rest. */
function settle(
  ranges: Array<[number, number]>,
  pending: number[],
  cursor: number,
  upTo: number,
  word: string,
): number {
  if (pending.length === 0) return Math.max(cursor, upTo);
  let pos = cursor;
  for (let k = 0; k < pending.length; k++) {
    const last = k === pending.length - 1;
    let next = pos;
    if (last) next = upTo;
    else if (pos < upTo) next = pos + (word.codePointAt(pos)! > 0xffff ? 2 : 1);
    ranges[pending[k]] = [pos, Math.min(next, upTo)];
    pos = Math.min(next, upTo);
  }
  pending.length = 0;
  return Math.max(cursor, upTo);
}

/** The piece without the model's continuation marks (its text as it appears in the word). */
function bareText(t: string, i: number, n: number, marks: PieceMarks): string {
  let s = t;
  if (marks.wpPrefix && i > 0 && s.startsWith(marks.wpPrefix)) s = s.slice(marks.wpPrefix.length);
  if (marks.bpeContPrefix && i > 0 && s.startsWith(marks.bpeContPrefix))
    s = s.slice(marks.bpeContPrefix.length);
  if (marks.bpeSuffix && i === n - 1 && s.endsWith(marks.bpeSuffix))
    s = s.slice(0, s.length - marks.bpeSuffix.length);
  if (marks.bpeContSuffix && i < n - 1 && s.endsWith(marks.bpeContSuffix))
    s = s.slice(0, s.length - marks.bpeContSuffix.length);
  return s;
}

/** Pieces of one word: their [start, end) in word (UTF-16 units of the pre-token string). */
export function pieceRanges(
  word: string,
  pieces: readonly string[],
  marks: PieceMarks,
): Array<[number, number]> {
  const n = pieces.length;
  const ranges: Array<[number, number]> = new Array<[number, number]>(n);
  if (n === 1 && pieces[0] !== marks.unkToken && !isBytePiece(pieces[0])) {
    // One piece (most words): where its text is, if it is the whole word; else the general path.
    const s = bareText(pieces[0], 0, 1, marks);
    if (s === word) {
      ranges[0] = [0, word.length];
      return ranges;
    }
  }
  let cursor = 0;
  const pending: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = pieces[i];
    if (t === marks.unkToken) {
      pending.push(i);
      continue;
    }
    if (isBytePiece(t)) {
      // A run of byte-fallback pieces: decode their bytes together.
      let j = i;
      const bytes: number[] = [];
      for (; j < n && isBytePiece(pieces[j]); j++) bytes.push(parseInt(pieces[j].slice(3, 5), 16));
      const d = decodeUtf8(bytes);
      const at = word.indexOf(d.text, cursor);
      if (at < 0) {
        for (let k = i; k < j; k++) pending.push(k);
      } else {
        cursor = settle(ranges, pending, cursor, at, word);
        for (let k = i; k < j; k++) ranges[k] = [at + d.start[k - i], at + d.end[k - i]];
        cursor = at + d.text.length;
      }
      i = j - 1;
      continue;
    }
    const s = bareText(t, i, n, marks);
    const at = word.startsWith(s, cursor) ? cursor : word.indexOf(s, cursor);
    if (at < 0 || s.length === 0) {
      pending.push(i);
      continue;
    }
    cursor = settle(ranges, pending, cursor, at, word);
    ranges[i] = [at, at + s.length];
    cursor = at + s.length;
  }
  settle(ranges, pending, cursor, word.length, word);
  return ranges;
}

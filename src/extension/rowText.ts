/**
 * The ranking panel's snippets: a row's decoded text (as the worker read it: JSON escapes resolved, CSV quotes
 * removed, text fields joined), whitespace-collapsed and shortened, with token heat placed through the decoded text's
 * map back to the raw file. The host never parses the file: the text comes from the worker (RowTextRequest). Pure: no
 * VS Code import (unit-tested).
 */
import type { DecodedRowText } from '../protocol/messages';
import type { HeatSpan } from '../protocol/panel';
import { NO_BUCKET, bucketOf, maxAbsAttribution } from './tokenColors';

export const SNIPPET_CHARS = 200;

type Segment = DecodedRowText['segs'][number];

export interface TokenRange {
  line: number;
  start: number;
  end: number;
  a: number;
}

export interface Snippet {
  text: string;
  heat?: HeatSpan[];
}

/** Collapses whitespace runs to one space, trims, and shortens to `max` characters with an ellipsis. */
export function snippet(text: string, max = SNIPPET_CHARS): string {
  return collapse(text, max).text;
}

/**
 * Whitespace-collapsed, shortened `text` and, for each input index, its index in the output (-1 when dropped:
 * collapsed whitespace or cut off).
 */
function collapse(text: string, max: number): { text: string; pos: Int32Array } {
  const pos = new Int32Array(text.length).fill(-1);
  const out: string[] = [];
  let space = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || /\s/.test(c)) {
      space = out.length > 0;
      continue;
    }
    if (space) {
      out.push(' ');
      space = false;
    }
    pos[i] = out.length;
    out.push(c);
    // Far enough past the limit to know it is cut.
    if (out.length > max) break;
  }
  if (out.length > max) {
    let keep = Math.max(0, max - 1);
    // Do not leave half of a surrogate pair (or a trailing space) before the ellipsis.
    const last = keep > 0 ? out[keep - 1].charCodeAt(0) : 0;
    if (last >= 0xd800 && last <= 0xdbff) keep--;
    if (keep > 0 && out[keep - 1] === ' ') keep--;
    out.length = keep;
    for (let i = 0; i < pos.length; i++) if (pos[i] >= keep) pos[i] = -1;
    out.push('…');
  }
  return { text: out.join(''), pos };
}

/** One-line snippet of a decoded row with heat spans for its attributed tokens. */
export function snippetOf(
  row: Pick<DecodedRowText, 'text' | 'segs'>,
  tokens?: readonly TokenRange[],
  max = SNIPPET_CHARS,
): Snippet {
  const { text, pos } = collapse(row.text, max);
  if (!tokens?.length) return { text };
  const heat = heatSpans(row.segs, pos, tokens);
  return heat.length ? { text, heat } : { text };
}

/** Decoded index of raw position (line, col), or -1: binary search over segments sorted by (line, raw). */
function locate(sorted: readonly Segment[], line: number, col: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  let best = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = sorted[mid];
    if (s.line < line || (s.line === line && s.raw <= col)) {
      best = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  if (best < 0) return -1;
  const s = sorted[best];
  if (s.line !== line || col >= s.raw + s.n * s.w) return -1;
  return s.v + Math.floor((col - s.raw) / s.w);
}

/** Maps tokens (raw ranges) to snippet spans through the decoded text. */
export function heatSpans(
  segs: readonly Segment[],
  pos: Int32Array,
  tokens: readonly TokenRange[],
): HeatSpan[] {
  const sorted = [...segs].sort((a, b) => a.line - b.line || a.raw - b.raw);
  const max = maxAbsAttribution(tokens);
  const out: HeatSpan[] = [];
  for (const t of tokens) {
    const b = bucketOf(t.a, max);
    if (b === NO_BUCKET || !(t.end > t.start)) continue;
    const ds = locate(sorted, t.line, t.start);
    const de = locate(sorted, t.line, t.end - 1);
    if (ds < 0 || de < ds) continue;
    let s = -1;
    let e = -1;
    for (let k = ds; k <= de && k < pos.length; k++) {
      if (pos[k] < 0) continue;
      if (s < 0) s = pos[k];
      e = pos[k] + 1;
    }
    if (s >= 0) out.push({ s, e, b, a: t.a });
  }
  out.sort((x, y) => x.s - y.s || y.e - x.e);
  // Tokens do not overlap; keep the first of any that would after collapsing.
  const kept: HeatSpan[] = [];
  for (const h of out) if (!kept.length || h.s >= kept[kept.length - 1].e) kept.push(h);
  return kept;
}

/**
 * The decoded text of a scored row, for the ranking panel: the value(s) of the text field(s) the engine tokenized
 * (JSON escapes resolved, CSV quotes removed), recovered from the raw lines held by the results store with the
 * engine's own decoders, together with the decoded-character → raw-position map those decoders build. Token heat
 * then follows from each token's raw range. Pure: no VS Code import (unit-tested).
 */
import { CsvParser } from '../engine/data/csv';
import { scanJsonString, topLevelSpans } from '../engine/data/jsonl';
import type { Segment } from '../engine/data/rawText';
import type { HeatSpan } from './panelProtocol';
import { NO_BUCKET, bucketOf, maxAbsAttribution } from './tokenColors';

export const SNIPPET_CHARS = 200;
/** Between the values of several text fields (e.g. subject · body). */
export const FIELD_SEPARATOR = ' · ';
/** A CSV record spanning more physical lines than this is not decoded (the raw line is shown instead). */
const MAX_RECORD_LINES = 5000;

export interface TextSchema {
  format: string;
  /** Text fields, in the order the engine concatenated them. */
  text: string[];
  /** Numeric feature columns (tabular data): shown as name=value. */
  numeric?: string[];
}

export interface DecodedRow {
  text: string;
  /** Runs of decoded code units and where they sit in the raw file (`v` indexes `text`). */
  segs: Segment[];
}

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

/** Decodes rows of one scored file from its raw lines. Create one per results; caches the plain text for filters. */
export class RowTextDecoder {
  private header: Map<string, number> | null | undefined;
  private readonly plainCache = new Map<number, string>();
  private readonly sep: string | undefined;

  constructor(
    private readonly lines: readonly string[],
    private readonly schema: TextSchema,
  ) {
    this.sep = schema.format === 'csv' ? ',' : schema.format === 'tsv' ? '\t' : undefined;
  }

  private fields(): string[] {
    return this.schema.numeric?.length ? this.schema.numeric : this.schema.text;
  }

  /** The raw text of 1-based line `n` as the engine saw it (BOM removed, no line break). */
  rawLine(n: number): string {
    const l = this.lines[n - 1] ?? '';
    return n === 1 && l.charCodeAt(0) === 0xfeff ? l.slice(1) : l;
  }

  /** The decoded text field(s) of the row starting at `line`, or undefined if the line does not decode. */
  decode(line: number): DecodedRow | undefined {
    try {
      const pieces = this.sep === undefined ? this.jsonPieces(line) : this.csvPieces(line);
      return pieces && join(pieces, !!this.schema.numeric?.length);
    } catch {
      return undefined;
    }
  }

  /** Lower-cased decoded text (the raw line if it does not decode), for the text filter; cached. */
  plainLower(line: number): string {
    let s = this.plainCache.get(line);
    if (s === undefined) {
      s = (this.decode(line)?.text ?? this.rawLine(line)).toLowerCase();
      this.plainCache.set(line, s);
    }
    return s;
  }

  /** One-line snippet of the row with heat spans for its attributed tokens. */
  snippet(line: number, tokens?: readonly TokenRange[], max = SNIPPET_CHARS): Snippet {
    const d = this.decode(line);
    if (!d) return { text: snippet(this.rawLine(line), max) };
    const { text, pos } = collapse(d.text, max);
    if (!tokens?.length) return { text };
    const heat = heatSpans(d.segs, pos, tokens);
    return heat.length ? { text, heat } : { text };
  }

  private jsonPieces(line: number): Piece[] | undefined {
    const raw = this.rawLine(line);
    const spans = topLevelSpans(raw);
    if (spans.size === 0) return undefined;
    const out: Piece[] = [];
    for (const name of this.fields()) {
      const span = spans.get(name);
      if (!span) continue;
      const [s, e] = span;
      if (raw[s] === '"') {
        const { sb } = scanJsonString(raw, s, line);
        out.push({ name, text: sb.value(), segs: sb.segs });
      } else {
        const v = raw.slice(s, e);
        if (v === 'null' || v[0] === '{' || v[0] === '[' || v === '') continue;
        out.push({ name, text: v, segs: [{ v: 0, line, raw: s, n: v.length, w: 1 }] });
      }
    }
    return out;
  }

  private csvHeader(): Map<string, number> | null {
    if (this.header !== undefined) return this.header;
    this.header = null;
    const p = new CsvParser(this.sep!);
    for (let n = 1; n <= this.lines.length && n <= MAX_RECORD_LINES; n++) {
      const r = p.push({ lineNo: n, text: this.rawLine(n), eol: '\n', invalid: false });
      if (r === null || r === 'blank') continue;
      const m = new Map<string, number>();
      r.cells.forEach((c, i) => {
        const h = c.value.trim();
        if (!m.has(h)) m.set(h, i);
      });
      this.header = m;
      break;
    }
    return this.header;
  }

  private csvPieces(line: number): Piece[] | undefined {
    const header = this.csvHeader();
    if (!header) return undefined;
    const p = new CsvParser(this.sep!);
    for (let n = line; n <= this.lines.length && n < line + MAX_RECORD_LINES; n++) {
      const r = p.push({ lineNo: n, text: this.rawLine(n), eol: '\n', invalid: false });
      if (r === 'blank') return undefined;
      if (r === null) continue;
      const out: Piece[] = [];
      for (const name of this.fields()) {
        const i = header.get(name);
        const c = i === undefined ? undefined : r.cells[i];
        if (c) out.push({ name, text: c.value, segs: c.sb.segs });
      }
      return out;
    }
    return undefined;
  }
}

interface Piece {
  name: string;
  text: string;
  segs: readonly Segment[];
}

function join(pieces: readonly Piece[], named: boolean): DecodedRow {
  let text = '';
  const segs: Segment[] = [];
  for (const p of pieces) {
    if (!named && p.text.trim() === '') continue;
    if (text) text += FIELD_SEPARATOR;
    if (named) text += `${p.name}=`;
    for (const s of p.segs) segs.push({ ...s, v: s.v + text.length });
    text += p.text;
  }
  return { text, segs };
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

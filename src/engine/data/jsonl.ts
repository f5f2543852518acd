/** JSON Lines: one JSON object per line, with exact raw positions of top-level string values. */
import type { FieldValue } from '../types';
import { fixedField, readLines, SegmentBuilder, segmentField } from './rawText';
import { invalidUtf8, tooLong, type RawRecord, type RecordSourceOptions, type ValueKind } from './record';

const SIMPLE_ESCAPES: Record<string, string> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

/**
 * Decodes the JSON string token whose opening quote is at `text[q]`, recording where each decoded code unit sits
 * in the raw line. Returns the builder and the index just after the closing quote. Assumes valid JSON.
 */
export function scanJsonString(text: string, q: number, line: number): { sb: SegmentBuilder; end: number } {
  const sb = new SegmentBuilder();
  let i = q + 1;
  for (;;) {
    let j = i;
    while (j < text.length) {
      const c = text.charCodeAt(j);
      if (c === 0x22 || c === 0x5c) break;
      j++;
    }
    if (j > i) sb.add(text.slice(i, j), line, i);
    if (j >= text.length) return { sb, end: j };
    if (text.charCodeAt(j) === 0x22) return { sb, end: j + 1 };
    const e = text[j + 1];
    if (e === 'u') {
      sb.add(String.fromCharCode(parseInt(text.slice(j + 2, j + 6), 16)), line, j, 6);
      i = j + 6;
    } else {
      sb.add(SIMPLE_ESCAPES[e] ?? e, line, j, 2);
      i = j + 2;
    }
  }
}

function skipWs(text: string, i: number): number {
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
    i++;
  }
  return i;
}

function skipString(text: string, q: number): number {
  let i = q + 1;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x5c) i += 2;
    else if (c === 0x22) return i + 1;
    else i++;
  }
  return i;
}

function skipValue(text: string, i: number): number {
  const c = text[i];
  if (c === '"') return skipString(text, i);
  if (c === '{' || c === '[') {
    let depth = 0;
    while (i < text.length) {
      const d = text[i];
      if (d === '"') {
        i = skipString(text, i);
        continue;
      }
      if (d === '{' || d === '[') depth++;
      else if (d === '}' || d === ']') {
        depth--;
        if (depth === 0) return i + 1;
      }
      i++;
    }
    return i;
  }
  while (i < text.length && !',}] \t\r\n'.includes(text[i])) i++;
  return i;
}

/** Raw [start, end) spans of the values of top-level keys of a (valid) JSON object line. Last duplicate wins. */
export function topLevelSpans(text: string): Map<string, [number, number]> {
  const spans = new Map<string, [number, number]>();
  let i = skipWs(text, 0);
  if (text[i] !== '{') return spans;
  i++;
  for (;;) {
    i = skipWs(text, i);
    if (text[i] !== '"') return spans;
    const { sb, end } = scanJsonString(text, i, 0);
    const key = sb.value();
    i = skipWs(text, end);
    if (text[i] !== ':') return spans;
    i = skipWs(text, i + 1);
    const vEnd = skipValue(text, i);
    spans.set(key, [i, vEnd]);
    i = skipWs(text, vEnd);
    if (text[i] !== ',') return spans;
    i++;
  }
}

function kindOf(v: unknown): ValueKind {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  const t = typeof v;
  if (t === 'string' || t === 'number' || t === 'boolean') return t;
  return 'object';
}

class JsonRecord implements RawRecord {
  private spans?: Map<string, [number, number]>;
  constructor(
    readonly line: number,
    readonly offset: number,
    private readonly raw: string,
    private readonly obj: Record<string, unknown>,
  ) {}
  names(): string[] {
    return Object.keys(this.obj);
  }
  kind(name: string): ValueKind {
    return Object.hasOwn(this.obj, name) ? kindOf(this.obj[name]) : 'missing';
  }
  text(name: string): string | undefined {
    const k = this.kind(name);
    return k === 'string' || k === 'number' || k === 'boolean' ? String(this.obj[name]) : undefined;
  }
  /**
   * The value at once; its raw-file mapping (the spans of the line's keys, the segments of the string) on first use,
   * since pooling reads values only and most rows never map a span back.
   */
  field(name: string): FieldValue | undefined {
    const k = this.kind(name);
    if (k !== 'string' && k !== 'number' && k !== 'boolean') return undefined;
    const value = String(this.obj[name]);
    let mapped: FieldValue | undefined;
    const map = (): FieldValue => (mapped ??= this.mappedField(name, k, value));
    return {
      name,
      value,
      rangeOf: (start, end) => map().rangeOf(start, end),
      get segments() {
        return map().segments;
      },
    };
  }

  private mappedField(name: string, k: ValueKind, value: string): FieldValue {
    this.spans ??= topLevelSpans(this.raw);
    const span = this.spans.get(name);
    if (!span) return fixedField(name, value, { line: this.line, start: 0, end: 0 });
    const [s, e] = span;
    if (k === 'string') {
      const { sb } = scanJsonString(this.raw, s, this.line);
      const empty = { line: this.line, start: s + 1, end: s + 1 };
      return segmentField(name, value, sb.segs, empty);
    }
    if (this.raw.slice(s, e) === value) {
      return segmentField(name, value, [{ v: 0, line: this.line, raw: s, n: value.length, w: 1 }], {
        line: this.line,
        start: s,
        end: e,
      });
    }
    return fixedField(name, value, { line: this.line, start: s, end: e });
  }
}

function errorRecord(line: number, error: string): RawRecord {
  return {
    line,
    offset: -1,
    error,
    names: () => [],
    kind: () => 'missing',
    text: () => undefined,
    field: () => undefined,
  };
}

/**
 * Streams the records of a JSONL file. Blank lines are ignored. A line longer than the row limit is an error record
 * and no more than the limit of it is held in memory (it comes from readLines in pieces).
 */
export async function* jsonlRecords(file: string, opts: RecordSourceOptions): AsyncGenerator<RawRecord> {
  let parts: string[] = [];
  let chars = 0;
  let invalid = false;
  let blank = true;
  const lines = readLines(file, {
    onBytes: opts.onBytes,
    signal: opts.signal,
    pieceBytes: opts.pieceBytes,
    start: opts.start,
  });
  for await (const piece of lines) {
    chars += piece.text.length;
    invalid ||= piece.invalid;
    blank &&= piece.text.trim() === '';
    if (chars <= opts.maxRowChars) parts.push(piece.text);
    else parts = [];
    if (piece.more) continue;
    const text = parts.length === 1 ? parts[0] : parts.join('');
    const lineNo = piece.lineNo;
    const offset = piece.offset ?? -1;
    const total = chars;
    const bad = invalid;
    const empty = blank;
    parts = [];
    chars = 0;
    invalid = false;
    blank = true;
    if (empty) continue;
    if (bad) {
      yield errorRecord(lineNo, invalidUtf8(lineNo));
      continue;
    }
    if (total > opts.maxRowChars) {
      yield errorRecord(lineNo, tooLong(total, opts.maxRowChars));
      continue;
    }
    let obj: unknown;
    try {
      obj = JSON.parse(text);
    } catch (err) {
      yield errorRecord(lineNo, `malformed JSON: ${(err as Error).message}`);
      continue;
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
      const what = obj === null ? 'null' : Array.isArray(obj) ? 'an array' : typeof obj;
      yield errorRecord(lineNo, `line is not a JSON object (found ${what})`);
      continue;
    }
    yield new JsonRecord(lineNo, offset, text, obj as Record<string, unknown>);
  }
}

export { errorRecord };

/**
 * CSV with a header row and RFC 4180 quoting (quoted separators, doubled quotes, line breaks inside quotes), and TSV
 * with a header row and no quoting at all (plain TSV, as IANA defines it: a field holds no tab and no line break, and
 * a `"` is a character like any other). Parsed line by line so that every decoded character keeps its raw line and
 * column.
 *
 * Nothing is lost silently: a quote that is never closed is reported on the line that opened it, and the lines after
 * it are read again as rows (the file is re-read from the next line); a record that spans many lines and then has
 * the wrong number of columns says which lines it swallowed; a record longer than the row limit keeps no more than
 * the limit in memory.
 */
import { DataError, type FieldValue } from '../types';
import { errorRecord } from './jsonl';
import { readLines, SegmentBuilder, segmentField, type RawLine } from './rawText';
import { invalidUtf8, tooLong, type RawRecord, type RecordSourceOptions, type ValueKind } from './record';

export interface CsvCell {
  sb: SegmentBuilder;
  value: string;
  /** Raw position of the cell's first character (the opening quote if quoted). */
  line: number;
  col: number;
  quoted: boolean;
}

export interface CsvRow {
  line: number;
  /** Byte offset where the record's first line starts (-1 when the lines came without offsets). */
  offset: number;
  /** Last physical line of the record. */
  endLine: number;
  /** The cells; empty when the record is longer than the limit (see `tooLong`). */
  cells: CsvCell[];
  /** Number of cells (also when they were not kept). */
  cellCount: number;
  chars: number;
  /** The record is longer than the parser's maxChars: its cells were not kept. */
  tooLong?: boolean;
  /** First physical line of the record that is not valid UTF-8, if any. */
  invalidLine?: number;
  /** Continuation lines (after the first) that, on their own, would have exactly this many separators: see rowLike. */
  sepCounts?: Map<number, number>;
}

export interface CsvParserOptions {
  /** RFC 4180 double quotes. Default: on for CSV, off for TSV (sep '\t'). */
  quoting?: boolean;
  /** Records longer than this many characters keep no cells (memory stays bounded). Default: unlimited. */
  maxChars?: number;
  /** Build the cells' segment lists (raw-file ranges). Default true; false keeps the values only. */
  ranges?: boolean;
}

/** Incremental record parser: feed physical lines (or pieces of long lines), get complete records. */
export class CsvParser {
  private cells: CsvCell[] = [];
  private cur: CsvCell | null = null;
  private inQuotes = false;
  private atStart = true;
  /** A quote ended the last piece inside quotes: the next piece decides whether it was `""` or a closing quote. */
  private quoteAtEnd: { line: number; col: number } | undefined;
  private startLine = 0;
  private startOffset = -1;
  private lastLine = 0;
  private chars = 0;
  private cellCount = 0;
  private tooLong = false;
  private invalidLine: number | undefined;
  private nextLineOffset: number | undefined;
  private nextLineNo: number | undefined;
  private sepCounts: Map<number, number> | undefined;
  private lineSeps = 0;
  /** Whitespace pieces at the start of a line: blank unless more than whitespace follows. */
  private lead: { text: string; line: RawLine } | undefined;
  private readonly quoting: boolean;
  private readonly maxChars: number;
  private readonly ranges: boolean;

  constructor(
    private readonly sep: string,
    options: CsvParserOptions = {},
  ) {
    this.quoting = options.quoting ?? sep !== '\t';
    this.maxChars = options.maxChars ?? Infinity;
    this.ranges = options.ranges ?? true;
  }

  get pending(): boolean {
    return this.cur !== null;
  }
  get pendingLine(): number {
    return this.startLine;
  }
  /** Where the line after the pending record's first line starts (to read on from there), if it was seen. */
  get pendingNext(): { offset: number; lineNo: number } | undefined {
    return this.nextLineOffset === undefined || this.nextLineNo === undefined
      ? undefined
      : { offset: this.nextLineOffset, lineNo: this.nextLineNo };
  }

  private newCell(line: number, col: number): CsvCell {
    return { sb: new SegmentBuilder(this.ranges), value: '', line, col, quoted: false };
  }

  private add(s: string, line: number, raw: number, w = 1, nl = false): void {
    if (!this.tooLong) this.cur!.sb.add(s, line, raw, w, nl);
  }

  private endCell(): void {
    this.cellCount++;
    if (this.cur && !this.tooLong) {
      this.cur.value = this.cur.sb.value();
      this.cells.push(this.cur);
    }
  }

  private endLineStats(): void {
    if (this.lastLine === this.startLine) return;
    this.sepCounts ??= new Map();
    this.sepCounts.set(this.lineSeps, (this.sepCounts.get(this.lineSeps) ?? 0) + 1);
  }

  /** Returns a finished record, null if the record continues, 'blank' for an empty line. */
  push(l: RawLine): CsvRow | null | 'blank' {
    let text = l.text;
    let col0 = l.col ?? 0;
    const last = !l.more;
    if (!this.cur) {
      if (this.lead && this.lead.line.lineNo === l.lineNo) {
        text = this.lead.text + text;
        col0 = this.lead.line.col ?? 0;
      }
      this.lead = undefined;
      if (text.trim() === '' && col0 === 0) {
        if (last) return 'blank';
        // Whitespace so far: blank unless the rest of the line holds more (kept while under the row limit).
        if (text.length <= Math.min(this.maxChars, 1 << 20)) {
          this.lead = { text, line: { ...l, col: 0 } };
          return null;
        }
      }
      this.startLine = this.lastLine = l.lineNo;
      this.startOffset = l.offset ?? -1;
      this.chars = 0;
      this.cellCount = 0;
      this.tooLong = false;
      this.invalidLine = undefined;
      this.nextLineOffset = this.nextLineNo = undefined;
      this.sepCounts = undefined;
      this.lineSeps = 0;
      this.cells = [];
      this.cur = this.newCell(l.lineNo, col0);
      this.inQuotes = false;
      this.atStart = true;
      this.quoteAtEnd = undefined;
    } else if (l.lineNo !== this.lastLine) {
      this.endLineStats();
      if (this.nextLineNo === undefined) {
        this.nextLineNo = l.lineNo;
        this.nextLineOffset = l.offset;
      }
      this.lastLine = l.lineNo;
      this.lineSeps = 0;
    }
    if (l.invalid && this.invalidLine === undefined) this.invalidLine = l.lineNo;
    this.chars += text.length + (last ? l.eol.length : 0);
    if (this.chars > this.maxChars && !this.tooLong) {
      this.tooLong = true;
      this.cells = [];
    }
    if (this.lastLine !== this.startLine) {
      for (let k = text.indexOf(this.sep); k >= 0; k = text.indexOf(this.sep, k + 1)) this.lineSeps++;
    }
    const lineNo = l.lineNo;
    const sep = this.sep;
    let i = 0;
    for (;;) {
      if (this.inQuotes) {
        if (this.quoteAtEnd) {
          const q = this.quoteAtEnd;
          this.quoteAtEnd = undefined;
          if (i < text.length && text[i] === '"') {
            this.add('"', q.line, q.col, 2);
            i++;
          } else if (i >= text.length && !last) {
            this.quoteAtEnd = q;
            return null;
          } else this.inQuotes = false;
          continue;
        }
        const q = text.indexOf('"', i);
        if (q < 0) {
          this.add(text.slice(i), lineNo, col0 + i);
          if (last) this.add(l.eol || '\n', lineNo, col0 + text.length, 1, true);
          return null;
        }
        this.add(text.slice(i, q), lineNo, col0 + i);
        if (q + 1 >= text.length && !last) {
          this.quoteAtEnd = { line: lineNo, col: col0 + q };
          return null;
        }
        if (text[q + 1] === '"') {
          this.add('"', lineNo, col0 + q, 2);
          i = q + 2;
        } else {
          this.inQuotes = false;
          i = q + 1;
        }
        continue;
      }
      if (this.atStart && this.quoting && text[i] === '"') {
        this.inQuotes = true;
        this.cur!.quoted = true;
        this.atStart = false;
        i++;
        continue;
      }
      if (i >= text.length && !last) return null;
      this.atStart = false;
      const s = text.indexOf(sep, i);
      const stop = s < 0 ? text.length : s;
      this.add(text.slice(i, stop), lineNo, col0 + i);
      if (s < 0) {
        if (!last) return null;
        this.endCell();
        this.endLineStats();
        this.cur = null;
        const row: CsvRow = {
          line: this.startLine,
          offset: this.startOffset,
          endLine: this.lastLine,
          cells: this.cells,
          cellCount: this.cellCount,
          chars: this.chars,
        };
        if (this.tooLong) row.tooLong = true;
        if (this.invalidLine !== undefined) row.invalidLine = this.invalidLine;
        if (this.sepCounts) row.sepCounts = this.sepCounts;
        return row;
      }
      this.endCell();
      i = s + 1;
      this.cur = this.newCell(lineNo, col0 + i);
      this.atStart = true;
    }
  }
}

/**
 * The header's field names: trimmed; an empty one is named `column<N>`, a repeated one gets a suffix (`f1.1`, as
 * pandas does) so that each column keeps its own name. `renamed` says which were changed.
 */
export function uniqueHeader(raw: readonly string[]): {
  names: string[];
  renamed: { column: number; from: string; to: string }[];
} {
  const trimmed = raw.map((h) => h.trim());
  const written = new Set(trimmed);
  const used = new Set<string>();
  const renamed: { column: number; from: string; to: string }[] = [];
  const names = trimmed.map((h, i) => {
    if (h !== '' && !used.has(h)) {
      used.add(h);
      return h;
    }
    const base = h === '' ? `column${i + 1}` : h;
    let name = base;
    // A made-up name must be neither one given already nor one the header has elsewhere.
    for (let k = 1; used.has(name) || name === h || (written.has(name) && name !== base); k++)
      name = `${base}.${k}`;
    used.add(name);
    renamed.push({ column: i + 1, from: h, to: name });
    return name;
  });
  return { names, renamed };
}

class CsvRecord implements RawRecord {
  constructor(
    readonly line: number,
    readonly offset: number,
    private readonly header: readonly string[],
    private readonly index: ReadonlyMap<string, number>,
    private readonly cells: readonly CsvCell[],
    private readonly ranges: boolean,
  ) {}
  names(): string[] {
    return [...this.header];
  }
  private cell(name: string): CsvCell | undefined {
    const i = this.index.get(name);
    return i === undefined ? undefined : this.cells[i];
  }
  kind(name: string): ValueKind {
    return this.cell(name) ? 'string' : 'missing';
  }
  text(name: string): string | undefined {
    return this.cell(name)?.value;
  }
  field(name: string): FieldValue | undefined {
    if (!this.ranges) throw new Error('csv: a record read without ranges has no fields (text() only)');
    const c = this.cell(name);
    if (!c) return undefined;
    const at = c.col + (c.quoted ? 1 : 0);
    return segmentField(name, c.value, c.sb.segs, { line: c.line, start: at, end: at });
  }
}

/** Re-reads after an unterminated quote at most this often; the lines after the last one are then reported. */
const MAX_QUOTE_RECOVERIES = 100;

export interface CsvHeaderInfo {
  names: string[];
  line: number;
  renamed: { column: number; from: string; to: string }[];
}

/**
 * Streams the data records of a CSV/TSV file; the first non-blank record is the header (unless opts.header gives
 * it, for a read that starts at a record seen before: opts.start).
 */
export async function* csvRecords(
  file: string,
  sep: string,
  opts: RecordSourceOptions,
  onHeader?: (header: string[], line: number, info: CsvHeaderInfo) => void,
): AsyncGenerator<RawRecord> {
  let header = opts.header ? [...opts.header] : undefined;
  let index = new Map((header ?? []).map((h, i) => [h, i]));
  const quoting = sep !== '\t';
  const handle = (row: CsvRow): RawRecord | undefined => {
    if (!header) {
      if (row.tooLong)
        throw new DataError(
          `the header is longer than the row limit of ${opts.maxRowChars} characters`,
          file,
          row.line,
        );
      const { names, renamed } = uniqueHeader(row.cells.map((c) => c.value));
      header = names;
      index = new Map(names.map((h, i) => [h, i]));
      onHeader?.(header, row.line, { names, line: row.line, renamed });
      return undefined;
    }
    const span =
      row.endLine > row.line
        ? ` (the record runs from line ${row.line} to line ${row.endLine}${quoting ? ': a quote left open?' : ''})`
        : '';
    if (row.invalidLine !== undefined) return errorRecord(row.line, invalidUtf8(row.invalidLine));
    if (row.tooLong || row.chars > opts.maxRowChars)
      return errorRecord(row.line, `${tooLong(row.chars, opts.maxRowChars)}${span}`);
    if (row.cellCount !== header.length) {
      return errorRecord(
        row.line,
        `expected ${header.length} columns (as in the header), found ${row.cellCount}${span}`,
      );
    }
    // A quoted field over several lines whose lines look like rows of their own: most likely a stray quote.
    const rowLike = row.sepCounts?.get(header.length - 1) ?? 0;
    const continuation = row.endLine - row.line;
    if (quoting && rowLike >= 2 && rowLike * 2 >= continuation)
      opts.onWarning?.(
        row.line,
        `a quoted field runs from line ${row.line} to line ${row.endLine}, and ${rowLike} of those lines look like rows of their own: a quote that should have been closed on line ${row.line}?`,
      );
    return new CsvRecord(row.line, row.offset, header, index, row.cells, ranges);
  };

  const ranges = opts.ranges ?? true;
  let start = opts.start;
  for (let recoveries = 0; ; recoveries++) {
    const parser = new CsvParser(sep, { quoting, maxChars: opts.maxRowChars, ranges });
    for await (const l of readLines(file, {
      onBytes: opts.onBytes,
      signal: opts.signal,
      start,
      pieceBytes: opts.pieceBytes,
    })) {
      const r = parser.push(l);
      if (r === null || r === 'blank') continue;
      const rec = handle(r);
      if (rec) yield rec;
    }
    if (!parser.pending) return;
    const line = parser.pendingLine;
    if (!header) throw new DataError('the header opens a quote that is never closed', file, line);
    const next = parser.pendingNext;
    if (!next) {
      yield errorRecord(line, 'unterminated quoted field (a closing " is missing)');
      return;
    }
    if (recoveries >= MAX_QUOTE_RECOVERIES) {
      yield errorRecord(line, 'unterminated quoted field (a closing " is missing)');
      // Enough re-reading: every record start after it is reported, none is dropped without a line.
      for await (const l of readLines(file, {
        signal: opts.signal,
        start: next,
        pieceBytes: opts.pieceBytes,
      }))
        if (!l.more && (l.col ?? 0) === 0 && l.text.trim() !== '')
          yield errorRecord(
            l.lineNo,
            `not read: more than ${MAX_QUOTE_RECOVERIES} quotes in this file are never closed`,
          );
      return;
    }
    yield errorRecord(
      line,
      `unterminated quoted field: the quote opened on line ${line} is never closed (the lines after it are read as rows)`,
    );
    start = next;
  }
}

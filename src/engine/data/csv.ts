/**
 * CSV / TSV with a header row, RFC 4180 quoting (quoted separators, doubled quotes, line breaks inside quotes).
 * Parsed line by line so that every decoded character keeps its raw line and column.
 */
import type { FieldValue } from '../types';
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
  cells: CsvCell[];
  chars: number;
  /** First physical line of the record that is not valid UTF-8, if any. */
  invalidLine?: number;
}

/** Incremental record parser: feed physical lines, get complete records. */
export class CsvParser {
  private cells: CsvCell[] = [];
  private cur: CsvCell | null = null;
  private inQuotes = false;
  private startLine = 0;
  private chars = 0;
  private invalidLine: number | undefined;

  constructor(private readonly sep: string) {}

  get pending(): boolean {
    return this.cur !== null;
  }
  get pendingLine(): number {
    return this.startLine;
  }

  private newCell(line: number, col: number): CsvCell {
    return { sb: new SegmentBuilder(), value: '', line, col, quoted: false };
  }

  private endCell(): void {
    if (this.cur) {
      this.cur.value = this.cur.sb.value();
      this.cells.push(this.cur);
    }
  }

  /** Returns a finished record, null if the line only continues a quoted field, 'blank' for an empty line. */
  push(l: RawLine): CsvRow | null | 'blank' {
    const { text, lineNo } = l;
    if (!this.cur) {
      if (text.trim() === '') return 'blank';
      this.startLine = lineNo;
      this.chars = 0;
      this.invalidLine = undefined;
      this.cells = [];
      this.cur = this.newCell(lineNo, 0);
      this.inQuotes = false;
    }
    if (l.invalid && this.invalidLine === undefined) this.invalidLine = lineNo;
    this.chars += text.length + l.eol.length;
    const sep = this.sep;
    let i = 0;
    let cell = this.cur;
    let atStart = !this.inQuotes;
    for (;;) {
      if (this.inQuotes) {
        const q = text.indexOf('"', i);
        if (q < 0) {
          cell.sb.add(text.slice(i), lineNo, i);
          const eol = l.eol || '\n';
          cell.sb.add(eol, lineNo, text.length, 1, true);
          return null;
        }
        cell.sb.add(text.slice(i, q), lineNo, i);
        if (text[q + 1] === '"') {
          cell.sb.add('"', lineNo, q, 2);
          i = q + 2;
        } else {
          this.inQuotes = false;
          i = q + 1;
        }
        continue;
      }
      if (atStart && text[i] === '"') {
        this.inQuotes = true;
        cell.quoted = true;
        atStart = false;
        i++;
        continue;
      }
      atStart = false;
      const s = text.indexOf(sep, i);
      const stop = s < 0 ? text.length : s;
      cell.sb.add(text.slice(i, stop), lineNo, i);
      this.endCell();
      if (s < 0) {
        this.cur = null;
        const row: CsvRow = { line: this.startLine, cells: this.cells, chars: this.chars };
        if (this.invalidLine !== undefined) row.invalidLine = this.invalidLine;
        return row;
      }
      i = s + 1;
      cell = this.cur = this.newCell(lineNo, i);
      atStart = true;
    }
  }
}

class CsvRecord implements RawRecord {
  constructor(
    readonly line: number,
    private readonly header: readonly string[],
    private readonly index: ReadonlyMap<string, number>,
    private readonly cells: readonly CsvCell[],
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
    const c = this.cell(name);
    if (!c) return undefined;
    const at = c.col + (c.quoted ? 1 : 0);
    return segmentField(name, c.value, c.sb.segs, { line: c.line, start: at, end: at });
  }
}

/** Streams the data records of a CSV/TSV file; the first non-blank record is the header. */
export async function* csvRecords(
  file: string,
  sep: string,
  opts: RecordSourceOptions,
  onHeader?: (header: string[], line: number) => void,
): AsyncGenerator<RawRecord> {
  const parser = new CsvParser(sep);
  let header: string[] | undefined;
  let index = new Map<string, number>();
  const handle = (row: CsvRow): RawRecord | undefined => {
    if (!header) {
      header = row.cells.map((c) => c.value.trim());
      index = new Map();
      header.forEach((h, i) => {
        if (!index.has(h)) index.set(h, i);
      });
      onHeader?.(header, row.line);
      return undefined;
    }
    if (row.invalidLine !== undefined) return errorRecord(row.line, invalidUtf8(row.invalidLine));
    if (row.chars > opts.maxRowChars) return errorRecord(row.line, tooLong(row.chars, opts.maxRowChars));
    if (row.cells.length !== header.length) {
      return errorRecord(
        row.line,
        `expected ${header.length} columns (as in the header), found ${row.cells.length}`,
      );
    }
    return new CsvRecord(row.line, header, index, row.cells);
  };
  for await (const l of readLines(file, opts.onBytes, opts.signal)) {
    const r = parser.push(l);
    if (r === null || r === 'blank') continue;
    const rec = handle(r);
    if (rec) yield rec;
  }
  if (parser.pending) {
    yield errorRecord(parser.pendingLine, 'unterminated quoted field (a closing " is missing)');
  }
}

/** Line → scored-row lookup by binary search. Pure: no VS Code import (unit-tested). */

export interface LineSpanRow {
  /** 1-based first line of the row. */
  line: number;
  tokens?: { line: number }[];
}

export interface IndexedRow<T> {
  row: T;
  /** Position of the row in the results array (what the worker's `rows` parameter takes). */
  position: number;
  /** 1-based first and last line the row covers (multi-line CSV fields span several). */
  first: number;
  last: number;
}

export class RowIndex<T extends LineSpanRow> {
  private readonly entries: IndexedRow<T>[];

  constructor(rows: readonly T[]) {
    this.entries = rows
      .map((row, position) => {
        let last = row.line;
        for (const t of row.tokens ?? []) if (t.line > last) last = t.line;
        return { row, position, first: row.line, last };
      })
      .sort((a, b) => a.first - b.first || a.position - b.position);
  }

  get size(): number {
    return this.entries.length;
  }

  /** Index of the first entry whose first line is ≥ line. */
  private lowerBound(line: number): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.entries[mid].first < line) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The row covering the 1-based line, if any. */
  at(line: number): IndexedRow<T> | undefined {
    const i = this.lowerBound(line + 1) - 1;
    if (i < 0) return undefined;
    const e = this.entries[i];
    return line <= e.last ? e : undefined;
  }

  /** Rows overlapping the 1-based inclusive line range [from, to], in line order. */
  inRange(from: number, to: number): IndexedRow<T>[] {
    const out: IndexedRow<T>[] = [];
    let i = this.lowerBound(from);
    // A row starting before `from` may still reach into the range.
    if (i > 0 && this.entries[i - 1].last >= from) out.push(this.entries[i - 1]);
    for (; i < this.entries.length && this.entries[i].first <= to; i++) out.push(this.entries[i]);
    return out;
  }
}

/**
 * The text a row feeds the tokenizer (its text fields joined by a newline, which every supported tokenizer treats as
 * whitespace) and the way back: a character span of that text to the row's raw-file range, through the field's own
 * FieldValue.rangeOf (exact across JSON escapes and CSV quoting).
 */
import type { DatasetRow, SourceRange } from '../../types';

export const FIELD_SEPARATOR = '\n';

export interface RowText {
  text: string;
  /** Where each field's value sits in `text` (UTF-16, end exclusive), in field order. */
  parts: { field: number; start: number; end: number }[];
}

export function rowText(row: DatasetRow): RowText {
  const parts: RowText['parts'] = [];
  let text = '';
  row.fields.forEach((fv, field) => {
    if (field > 0) text += FIELD_SEPARATOR;
    parts.push({ field, start: text.length, end: text.length + fv.value.length });
    text += fv.value;
  });
  return { text, parts };
}

/**
 * The index in rt.parts of the field holding text offset `start` (an empty field at `start` counts), -1 when it is in
 * no field (a separator). A token is the row's (mapped, pooled, attributed) exactly when its start is in a field.
 */
export function partAt(rt: RowText, start: number): number {
  const parts = rt.parts;
  for (let k = 0; k < parts.length; k++) if (parts[k].start <= start && start < parts[k].end) return k;
  for (let k = 0; k < parts.length; k++) if (parts[k].start === start) return k;
  return -1;
}

/**
 * The raw-file range of text[start, end): the field holding `start` (a span reaching past the field's end is cut
 * there); an empty span gives a zero-width range. Undefined when `start` is in no field (a separator).
 */
export function spanRange(
  row: DatasetRow,
  rt: RowText,
  start: number,
  end: number,
): { field: number; range: SourceRange } | undefined {
  const k = partAt(rt, start);
  if (k < 0) return undefined;
  const p = rt.parts[k];
  const fv = row.fields[p.field];
  const ls = start - p.start;
  const le = Math.min(end, p.end) - p.start;
  if (le > ls) {
    const r = fv.rangeOf(ls, le);
    return { field: p.field, range: { line: r.line, start: r.start, end: r.end } };
  }
  try {
    const r = ls < fv.value.length ? fv.rangeOf(ls, ls + 1) : fv.rangeOf(Math.max(0, ls - 1), ls);
    const at = ls < fv.value.length ? r.start : r.end;
    return { field: p.field, range: { line: r.line, start: at, end: at } };
  } catch {
    return { field: p.field, range: { line: row.line, start: 0, end: 0 } };
  }
}

/**
 * The raw-file ranges of text[from, end): what truncation left out. One range per field and raw line (whitespace at
 * the edges trimmed), so the editor can mark exactly the unscored characters.
 */
export function tailRanges(row: DatasetRow, rt: RowText, from: number): SourceRange[] {
  const out: SourceRange[] = [];
  for (const p of rt.parts) {
    const first = out.length;
    if (p.end <= from) continue;
    const fv = row.fields[p.field];
    const value = fv.value;
    let i = Math.max(from, p.start) - p.start;
    while (i < value.length) {
      let j = i;
      while (j < value.length && value[j] !== '\n' && value[j] !== '\r') j++;
      let s = i;
      let e = j;
      while (s < e && /\s/.test(value[s])) s++;
      while (e > s && /\s/.test(value[e - 1])) e--;
      if (e > s) {
        const r = fv.rangeOf(s, e);
        const last = out.length > first ? out[out.length - 1] : undefined;
        if (last && last.line === r.line) {
          // The same field on the same raw line (the pieces around a JSON "\n" escape): one range.
          last.start = Math.min(last.start, r.start);
          last.end = Math.max(last.end, r.end);
        } else out.push({ line: r.line, start: r.start, end: r.end });
      }
      i = j + 1;
    }
  }
  return out;
}

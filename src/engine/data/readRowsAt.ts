/**
 * Chosen rows read again, with their decoded fields, from the offsets the first read kept (LeanRow.offset): the rows
 * that get token attributions, the rows "Explain this row" asks for, the rows the ranking panel shows. The same
 * record parsers and the same row decoding as the first read, started at the record's line, so each row comes back
 * with exactly the fields and raw-file ranges the first read gave it.
 */
import { DataError, type DatasetRow, type DatasetSchema, type LeanRow } from '../types';
import { csvRecords } from './csv';
import { DEFAULT_MAX_ROW_CHARS, records } from './readDataset';
import type { RawRecord } from './record';
import { decodeRecord } from './rowDecoder';

export interface ReadRowsAtOptions {
  signal?: AbortSignal;
  /** The row limit of the first read (default as readDataset's). */
  maxRowChars?: number;
}

const changed = (file: string, line: number, what: string) =>
  new DataError(`${what}: the file changed since it was read; score it again`, file, line);

/** The header's field names of a CSV/TSV file, as the first read named them (renamed duplicates included). */
async function headerOf(
  file: string,
  sep: string,
  opts: ReadRowsAtOptions & { maxRowChars: number },
): Promise<string[] | undefined> {
  let names: string[] | undefined;
  const rest = csvRecords(file, sep, opts, (h) => (names = h));
  // The header is parsed before the first data record comes out; stop there.
  for await (const _ of rest) break;
  return names;
}

/** The first record from `row`'s offset. */
async function recordAt(
  file: string,
  schema: DatasetSchema,
  row: LeanRow,
  opts: ReadRowsAtOptions & { maxRowChars: number; header?: string[] },
): Promise<RawRecord | undefined> {
  const source = records(file, schema.format, {
    maxRowChars: opts.maxRowChars,
    signal: opts.signal,
    start: { offset: row.offset, lineNo: row.line },
    header: opts.header,
  });
  for await (const r of source) return r;
  return undefined;
}

/**
 * `rows` (from a read of `file` with `schema`) with their decoded fields, in the order given. A row whose record is
 * no longer where it was, or no longer the same row, is a DataError: the file changed since it was read.
 */
export async function readRowsAt(
  file: string,
  schema: DatasetSchema,
  rows: readonly LeanRow[],
  opts: ReadRowsAtOptions = {},
): Promise<DatasetRow[]> {
  if (!rows.length) return [];
  const o = { ...opts, maxRowChars: opts.maxRowChars ?? DEFAULT_MAX_ROW_CHARS };
  const header =
    schema.format === 'jsonl' ? undefined : await headerOf(file, schema.format === 'csv' ? ',' : '\t', o);
  if (schema.format !== 'jsonl' && !header) throw changed(file, rows[0].line, 'no header');
  const out: DatasetRow[] = [];
  for (const row of rows) {
    if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('aborted');
    if (!(row.offset >= 0)) throw new Error(`readRowsAt: line ${row.line} has no offset`);
    const r = await recordAt(file, schema, row, { ...o, header });
    if (!r || r.line !== row.line || r.offset !== row.offset)
      throw changed(file, row.line, 'the row is not there');
    if (r.error) throw changed(file, row.line, r.error);
    const d = decodeRecord(r, schema, { fields: true, text: row.text !== undefined });
    if (d.skip !== undefined) throw changed(file, row.line, d.skip);
    if (d.label !== row.label || (d.id !== undefined && d.id !== row.id))
      throw changed(file, row.line, `the row's label or id is not '${row.label}' / '${row.id}'`);
    out.push({ ...row, fields: d.fields! });
  }
  return out;
}

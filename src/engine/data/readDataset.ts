/** Reads a JSONL / CSV / TSV training set into decoded rows that can map any span back to the raw file. */
import { stat } from 'node:fs/promises';
import * as path from 'node:path';
import {
  DataError,
  type DatasetRow,
  type DatasetSchema,
  type FieldValue,
  type ProgressCallback,
  type SkippedRow,
} from '../types';
import { csvRecords } from './csv';
import { inferSchema, isNumericText } from './inferFields';
import { jsonlRecords } from './jsonl';
import { abortError, throttle } from './rawText';
import type { RawRecord, RecordSourceOptions } from './record';

export interface ReadOptions {
  /** Text fields (in this order); inferred when absent. */
  text?: string[];
  label?: string;
  id?: string;
  /** Throw on the first bad row instead of skipping it. */
  strict?: boolean;
  /** Rows longer than this (in characters) are skipped. Default 1,000,000. */
  maxRowChars?: number;
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
  /** Force (true) or forbid (false) numeric/tabular reading; detected when absent. */
  tabular?: boolean;
  /** A test set may hold one class only; a training set may not. */
  allowSingleClass?: boolean;
}

export interface ReadResult {
  file: string;
  schema: DatasetSchema;
  rows: DatasetRow[];
  skipped: SkippedRow[];
  /** Sorted distinct labels. */
  classes: string[];
  warnings: string[];
}

export const DEFAULT_MAX_ROW_CHARS = 1_000_000;
/** Number of valid records looked at to infer the schema. */
const SAMPLE_ROWS = 1000;

export function formatOf(file: string): DatasetSchema['format'] {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  if (ext === '.csv') return 'csv';
  if (ext === '.tsv' || ext === '.tab') return 'tsv';
  throw new DataError(
    `unsupported file type '${ext || '(none)'}'; expected .jsonl, .ndjson, .csv or .tsv`,
    file,
  );
}

function records(
  file: string,
  format: DatasetSchema['format'],
  opts: RecordSourceOptions,
  onHeader?: (h: string[]) => void,
): AsyncGenerator<RawRecord> {
  return format === 'jsonl'
    ? jsonlRecords(file, opts)
    : csvRecords(file, format === 'csv' ? ',' : '\t', opts, onHeader);
}

function emptyField(name: string, line: number): FieldValue {
  return { name, value: '', rangeOf: () => ({ line, start: 0, end: 0 }) };
}

/** The file's size in bytes; a missing or unreadable file is a DataError naming it. */
async function fileSize(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch (err) {
    throw new DataError(`cannot read file: ${(err as Error).message}`, file);
  }
}

interface Sample {
  /** Field names in file order: the CSV header, or the union of JSON keys in order of first appearance. */
  names: string[];
  header?: string[];
  sample: RawRecord[];
}

/** Reads up to SAMPLE_ROWS valid records from the start of the file. */
async function sampleRecords(
  file: string,
  format: DatasetSchema['format'],
  maxRowChars: number,
  opts: Pick<ReadOptions, 'signal' | 'strict'>,
): Promise<Sample> {
  let header: string[] | undefined;
  const sample: RawRecord[] = [];
  const seen = new Set<string>();
  const names: string[] = [];
  let firstError: RawRecord | undefined;
  for await (const r of records(file, format, { maxRowChars, signal: opts.signal }, (h) => (header = h))) {
    if (r.error) {
      firstError ??= r;
      continue;
    }
    sample.push(r);
    if (!header) {
      for (const k of r.names()) {
        if (!seen.has(k)) {
          seen.add(k);
          names.push(k);
        }
      }
    }
    if (sample.length >= SAMPLE_ROWS) break;
  }
  if (sample.length === 0) {
    if (opts.strict && firstError) throw new DataError(firstError.error!, file, firstError.line);
    const why = firstError ? ` (first problem: line ${firstError.line}: ${firstError.error})` : '';
    throw new DataError(`no rows${why}`, file);
  }
  return { names: header ?? names, header, sample };
}

export interface FieldInspection {
  /** All field names, in file order. */
  names: string[];
  /** What inference picks with the given options; absent when it cannot decide (see `error`). */
  inferred?: { label: string; text: string[]; id?: string; tabular: boolean };
  /** Why inference failed (e.g. no label-like field). */
  error?: string;
  /** Choices a person should confirm. Empty when inference is clear-cut. */
  ambiguities: string[];
}

/** Looks at the start of a file and says which fields scoring would use, and whether that is a guess. */
export async function inspectFields(
  file: string,
  opts: Pick<ReadOptions, 'text' | 'label' | 'id' | 'tabular' | 'signal'> = {},
): Promise<FieldInspection> {
  const format = formatOf(file);
  await fileSize(file);
  const { names, sample } = await sampleRecords(file, format, DEFAULT_MAX_ROW_CHARS, opts);
  try {
    const { schema, ambiguities } = inferSchema(file, format, names, sample, opts);
    const tabular = schema.textFields.length === 0;
    const inferred: NonNullable<FieldInspection['inferred']> = {
      label: schema.labelField,
      text: tabular ? (schema.numericFields ?? []) : schema.textFields,
      tabular,
    };
    if (schema.idField) inferred.id = schema.idField;
    return { names, inferred, ambiguities };
  } catch (err) {
    if (!(err instanceof DataError)) throw err;
    return { names, error: err.message, ambiguities: [err.message] };
  }
}

export async function readDataset(file: string, opts: ReadOptions = {}): Promise<ReadResult> {
  const format = formatOf(file);
  const maxRowChars = opts.maxRowChars ?? DEFAULT_MAX_ROW_CHARS;
  const { signal } = opts;
  if (signal?.aborted) throw abortError(signal);
  const total = await fileSize(file);

  // Pass 1: a sample of valid records to infer the schema.
  const { names, header, sample } = await sampleRecords(file, format, maxRowChars, opts);
  const { schema, warnings, ambiguities } = inferSchema(file, format, names, sample, opts);
  for (const a of ambiguities) if (a.startsWith('text:')) warnings.push(`${a}; pass --text to choose`);
  if (header) {
    const dups = header.filter((h, i) => header!.indexOf(h) !== i);
    if (dups.length) warnings.push(`duplicate column names in the header: ${[...new Set(dups)].join(', ')}`);
  }
  sample.length = 0;

  // Pass 2: all rows.
  const progress = throttle(opts.onProgress);
  const rows: DatasetRow[] = [];
  const skipped: SkippedRow[] = [];
  const classes = new Set<string>();
  const ids = new Set<string>();
  let duplicateIds = 0;
  let emptyText = 0;
  const skip = (line: number, reason: string): void => {
    if (opts.strict) throw new DataError(reason, file, line);
    skipped.push({ line, reason });
  };
  const onBytes = (done: number): void => progress({ stage: 'reading', done, total });
  const { labelField, idField, textFields, numericFields } = schema;

  for await (const r of records(file, format, { maxRowChars, signal, onBytes })) {
    if (r.error) {
      skip(r.line, r.error);
      continue;
    }
    const label = r.text(labelField)?.trim();
    if (label === undefined) {
      const k = r.kind(labelField);
      skip(
        r.line,
        k === 'missing' || k === 'null'
          ? `missing label '${labelField}'`
          : `label '${labelField}' is not a string or number`,
      );
      continue;
    }
    if (label === '') {
      skip(r.line, `empty label '${labelField}'`);
      continue;
    }
    const index = rows.length;
    const idText = idField !== undefined ? r.text(idField) : undefined;
    const id = idText !== undefined && idText !== '' ? idText : String(index);
    let fields: FieldValue[];
    let numeric: Float64Array | undefined;
    if (numericFields) {
      numeric = new Float64Array(numericFields.length);
      fields = [];
      let bad: string | undefined;
      for (let j = 0; j < numericFields.length; j++) {
        const name = numericFields[j];
        const t = r.text(name);
        if (t === undefined || t.trim() === '') numeric[j] = NaN;
        else if (isNumericText(t)) numeric[j] = Number(t);
        else {
          bad = `value '${t.length > 40 ? t.slice(0, 40) + '…' : t}' of column '${name}' is not a number`;
          break;
        }
        fields.push(r.field(name) ?? emptyField(name, r.line));
      }
      if (bad) {
        skip(r.line, bad);
        continue;
      }
    } else {
      fields = [];
      let present = 0;
      for (const name of textFields) {
        const f = r.field(name);
        if (f) present++;
        fields.push(f ?? emptyField(name, r.line));
      }
      if (present === 0) {
        skip(
          r.line,
          `missing text field${textFields.length > 1 ? 's' : ''} ${textFields.map((t) => `'${t}'`).join(', ')}`,
        );
        continue;
      }
      if (fields.every((f) => f.value.trim() === '')) emptyText++;
    }
    if (ids.has(id)) duplicateIds++;
    else ids.add(id);
    classes.add(label);
    const row: DatasetRow = { index, line: r.line, id, label, fields };
    if (numeric) row.numeric = numeric;
    rows.push(row);
  }
  progress({ stage: 'reading', done: total, total }, true);

  if (rows.length === 0) {
    const why = skipped.length
      ? ` (${skipped.length} skipped; first: line ${skipped[0].line}: ${skipped[0].reason})`
      : '';
    throw new DataError(`no rows${why}`, file);
  }
  const classList = [...classes].sort();
  if (classList.length < 2 && !(opts.allowSingleClass && classList.length === 1)) {
    throw new DataError(
      `needs at least two classes, but every row has label '${classList[0]}' (field '${labelField}')`,
      file,
    );
  }
  if (emptyText) warnings.push(`${emptyText} row${emptyText > 1 ? 's have' : ' has'} empty text`);
  if (duplicateIds)
    warnings.push(`${duplicateIds} duplicate id${duplicateIds > 1 ? 's' : ''} in field '${idField}'`);
  return { file, schema, rows, skipped, classes: classList, warnings };
}

/**
 * Reads a JSONL / CSV / TSV training set: a sample to infer the schema, then every row once, streamed (openDataset):
 * the rows come out in batches with their decoded fields (which can map any span back to the raw file) and are kept
 * lean (LeanRow); readRowsAt.ts reads chosen rows again, with their fields, from their offsets.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import * as path from 'node:path';
import type { FieldInspection } from '../../protocol/messages';
import {
  DataError,
  type DatasetRow,
  type DatasetSchema,
  type LeanRow,
  type ProgressCallback,
  type SkippedRow,
} from '../types';
import { type CsvHeaderInfo, csvRecords } from './csv';
import { describeSystemError, kindOfNonFile } from './fileErrors';
import { inferSchema } from './inferFields';
import { jsonlRecords } from './jsonl';
import { abortError, throttle } from './rawText';
import type { RawRecord, RecordSourceOptions } from './record';
import { decodeRecord } from './rowDecoder';

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
  /** Keep each row's joined text (LeanRow.text). */
  keepText?: boolean;
  /**
   * Told each valid text row's joined text, in row order, without keeping it (near-duplicate detection groups the
   * texts as they stream by). Not called for tabular rows.
   */
  onText?: (text: string) => void;
  /** Read with this schema (inferred by an earlier read of the same file) instead of inferring one. */
  schema?: DatasetSchema;
}

export interface ReadResult<Row extends LeanRow = DatasetRow> {
  file: string;
  schema: DatasetSchema;
  rows: Row[];
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

export function records(
  file: string,
  format: DatasetSchema['format'],
  opts: RecordSourceOptions,
  onHeader?: (h: string[], line: number, info: CsvHeaderInfo) => void,
): AsyncGenerator<RawRecord> {
  return format === 'jsonl'
    ? jsonlRecords(file, opts)
    : csvRecords(file, format === 'csv' ? ',' : '\t', opts, onHeader);
}

/**
 * The file's size in bytes. A missing or unreadable file is a DataError naming it, and so is anything but a regular
 * file: a folder, and a FIFO or a device, which memscore would read twice (or forever, for /dev/zero).
 */
async function fileSize(file: string): Promise<number> {
  let st;
  try {
    st = await stat(file);
  } catch (err) {
    throw new DataError(`cannot read the file: ${describeSystemError(err)}`, file);
  }
  if (st.isDirectory()) throw new DataError('is a folder, not a data file', file);
  if (!st.isFile())
    throw new DataError(
      `is ${kindOfNonFile(st)}, not a regular file: memscore reads its input more than once (to infer the fields, then the rows); save it to a file first`,
      file,
    );
  try {
    await access(file, constants.R_OK);
  } catch (err) {
    throw new DataError(`cannot read the file: ${describeSystemError(err)}`, file);
  }
  return st.size;
}

interface Sample {
  /** Field names in file order: the CSV header, or the union of JSON keys in order of first appearance. */
  names: string[];
  header?: CsvHeaderInfo;
  sample: RawRecord[];
}

/** Reads up to SAMPLE_ROWS valid records from the start of the file. */
async function sampleRecords(
  file: string,
  format: DatasetSchema['format'],
  maxRowChars: number,
  opts: Pick<ReadOptions, 'signal' | 'strict'>,
): Promise<Sample> {
  let header: CsvHeaderInfo | undefined;
  const sample: RawRecord[] = [];
  const seen = new Set<string>();
  const names: string[] = [];
  let firstError: RawRecord | undefined;
  const onHeader = (_h: string[], _line: number, info: CsvHeaderInfo) => (header = info);
  // Inference looks at values only: no raw-file ranges.
  const source = records(file, format, { maxRowChars, signal: opts.signal, ranges: false }, onHeader);
  for await (const r of source) {
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
  return { names: header?.names ?? names, header, sample };
}

/** Which fields scoring would use: the worker's inspect answer (its type crosses the process boundary). */
export type { FieldInspection };

/** Looks at the start of a file and says which fields scoring would use, and whether that is a guess. */
export async function inspectFields(
  file: string,
  opts: Pick<ReadOptions, 'text' | 'label' | 'id' | 'tabular' | 'signal'> = {},
): Promise<FieldInspection> {
  await fileSize(file); // first: a folder or a missing file is named as such, whatever its extension
  const format = formatOf(file);
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

/** A file whose schema is known (the sample read) and whose rows are read by read(). */
export interface DatasetReader {
  readonly file: string;
  readonly schema: DatasetSchema;
  /** About how many valid rows the file holds (from the sample's bytes per record), to size arrays; 0 if unknown. */
  readonly estimatedRows: number;
  /** The part of the file read so far, 0 to 1 (while read() runs). */
  share(): number;
  /**
   * Reads every row once. `onRows` (awaited before reading on) gets the valid rows in batches of up to `batchSize`
   * with their decoded fields, which are built only when it is given; the result keeps each row lean (LeanRow).
   * Throws as readDataset does: the first bad row under `strict`, no rows, fewer than two classes.
   */
  read(
    onRows?: (rows: DatasetRow[]) => void | Promise<void>,
    batchSize?: number,
  ): Promise<ReadResult<LeanRow>>;
}

/**
 * Checks the file and infers its schema from a sample (or takes `opts.schema`, a schema inferred before); the rows
 * are read by the reader's read(), once.
 */
export async function openDataset(file: string, opts: ReadOptions = {}): Promise<DatasetReader> {
  const { signal } = opts;
  if (signal?.aborted) throw abortError(signal);
  const total = await fileSize(file); // first: a folder or a missing file is named as such, whatever its extension
  const format = formatOf(file);
  const maxRowChars = opts.maxRowChars ?? DEFAULT_MAX_ROW_CHARS;
  if (opts.schema) {
    if (opts.schema.format !== format)
      throw new Error(`readDataset: a ${opts.schema.format} schema for a ${format} file`);
    return new Reader(file, opts.schema, [], 0, total, maxRowChars, opts);
  }

  // Pass 1: a sample of valid records to infer the schema.
  const { names, header, sample } = await sampleRecords(file, format, maxRowChars, opts);
  const { schema, warnings, ambiguities } = inferSchema(file, format, names, sample, opts);
  for (const a of ambiguities) if (a.startsWith('text:')) warnings.push(`${a}; pass --text to choose`);
  for (const r of header?.renamed ?? [])
    warnings.push(
      r.from === ''
        ? `column ${r.column} of the header has no name; it is read as '${r.to}'`
        : `the header names '${r.from}' more than once; column ${r.column} is read as '${r.to}'`,
    );
  const estimate = estimateRows(sample, total);
  sample.length = 0;
  return new Reader(file, schema, warnings, estimate, total, maxRowChars, opts);
}

/** Valid rows in the file, judged from the sample: all of them, or the file's size over bytes per record. */
function estimateRows(sample: readonly RawRecord[], bytes: number): number {
  if (sample.length < SAMPLE_ROWS) return sample.length;
  const first = sample[0].offset;
  const last = sample[sample.length - 1].offset;
  if (!(first >= 0 && last > first)) return 0;
  return Math.ceil((bytes - first) / ((last - first) / (sample.length - 1)));
}

/** Rows handed to onRows at a time, unless read() is told otherwise. */
const ROW_BATCH = 256;

class Reader implements DatasetReader {
  private used = false;
  private bytesRead = 0;
  constructor(
    readonly file: string,
    readonly schema: DatasetSchema,
    private readonly warnings: string[],
    readonly estimatedRows: number,
    private readonly total: number,
    private readonly maxRowChars: number,
    private readonly opts: ReadOptions,
  ) {}

  share(): number {
    return this.total > 0 ? Math.min(1, this.bytesRead / this.total) : 1;
  }

  async read(
    onRows?: (rows: DatasetRow[]) => void | Promise<void>,
    batchSize = ROW_BATCH,
  ): Promise<ReadResult<LeanRow>> {
    if (this.used) throw new Error('DatasetReader.read: the rows are read once');
    this.used = true;
    const { file, schema, opts, total, maxRowChars } = this;
    const { signal } = opts;
    const warnings = [...this.warnings];
    const progress = throttle(opts.onProgress);
    const rows: LeanRow[] = [];
    const skipped: SkippedRow[] = [];
    const classes = new Map<string, { count: number; line: number; kind: string }>();
    const labelKinds = new Map<string, number>();
    const ids = new Set<string>();
    let duplicateIds = 0;
    let emptyText = 0;
    const skip = (line: number, reason: string): void => {
      if (opts.strict) throw new DataError(reason, file, line);
      skipped.push({ line, reason });
    };
    const recordWarnings: string[] = [];
    let moreRecordWarnings = 0;
    const onWarning = (line: number, message: string): void => {
      if (recordWarnings.length < 3) recordWarnings.push(`line ${line}: ${message}`);
      else moreRecordWarnings++;
    };
    const onBytes = (done: number): void => {
      this.bytesRead = done;
      progress({ stage: 'reading', done, total });
    };
    const { labelField, idField, numericFields } = schema;
    /** Per numeric column: cells read as missing from a marker (NaN, NA...), and the first one. */
    const markers = numericFields?.map(() => ({ count: 0, value: '', line: 0 }));
    let line = 0;
    const want = {
      fields: onRows !== undefined,
      text: opts.keepText === true || opts.onText !== undefined,
      onMarker: (j: number, shown: string) => {
        const m = markers![j];
        if (m.count++ === 0) {
          m.value = shown;
          m.line = line;
        }
      },
    };
    let batch: DatasetRow[] = [];
    const source = records(file, schema.format, {
      maxRowChars,
      signal,
      onBytes,
      onWarning,
      // Raw-file ranges only for decoded fields.
      ranges: want.fields,
    });
    for await (const r of source) {
      if (r.error) {
        skip(r.line, r.error);
        continue;
      }
      line = r.line;
      const d = decodeRecord(r, schema, want);
      if (d.skip !== undefined) {
        skip(r.line, d.skip);
        continue;
      }
      const index = rows.length;
      const id = d.id ?? String(index);
      if (d.emptyText) emptyText++;
      if (ids.has(id)) duplicateIds++;
      else ids.add(id);
      const kind = r.kind(labelField);
      labelKinds.set(kind, (labelKinds.get(kind) ?? 0) + 1);
      const c = classes.get(d.label);
      if (c) c.count++;
      else classes.set(d.label, { count: 1, line: r.line, kind });
      const row: LeanRow = { index, line: r.line, offset: r.offset, id, label: d.label };
      if (d.numeric) row.numeric = d.numeric;
      if (d.text !== undefined) {
        if (opts.keepText) row.text = d.text;
        opts.onText?.(d.text);
      }
      rows.push(row);
      if (onRows) {
        batch.push({ ...row, fields: d.fields! });
        if (batch.length >= batchSize) {
          const full = batch;
          batch = [];
          await onRows(full);
        }
      }
    }
    if (onRows && batch.length) await onRows(batch);
    progress({ stage: 'reading', done: total, total }, true);

    if (rows.length === 0) {
      const why = skipped.length
        ? ` (${skipped.length} skipped; first: line ${skipped[0].line}: ${skipped[0].reason})`
        : '';
      throw new DataError(`no rows${why}`, file);
    }
    const classList = [...classes.keys()].sort();
    if (classList.length < 2 && !(opts.allowSingleClass && classList.length === 1)) {
      throw new DataError(
        `needs at least two classes, but every row has label '${classList[0]}' (field '${labelField}')`,
        file,
      );
    }
    warnings.push(...recordWarnings);
    if (moreRecordWarnings) warnings.push(`... and ${moreRecordWarnings} more such records`);
    markers?.forEach((m, j) => {
      if (m.count)
        warnings.push(
          `column '${numericFields![j]}': ${m.count} cell${m.count > 1 ? 's' : ''} read as missing (first: '${m.value}' on line ${m.line}); the numeric featurizer puts the column mean there`,
        );
    });
    warnings.push(...labelWarnings(classes, labelKinds, labelField, rows.length));
    if (emptyText) warnings.push(`${emptyText} row${emptyText > 1 ? 's have' : ' has'} empty text`);
    if (duplicateIds)
      warnings.push(`${duplicateIds} duplicate id${duplicateIds > 1 ? 's' : ''} in field '${idField}'`);
    return { file, schema, rows, skipped, classes: classList, warnings };
  }
}

/** Reads a whole file into decoded rows (each with its fields): for callers that want every row at once. */
export async function readDataset(file: string, opts: ReadOptions = {}): Promise<ReadResult> {
  const reader = await openDataset(file, opts);
  const rows: DatasetRow[] = [];
  const { rows: _lean, ...rest } = await reader.read((batch) => {
    for (const r of batch) rows.push(r);
  });
  return { ...rest, rows };
}

/**
 * Labels that look like mistakes: classes of one row (in a file with larger classes), and labels of another kind
 * than most (a JSON number or boolean among strings), which become classes of their own.
 */
function labelWarnings(
  classes: ReadonlyMap<string, { count: number; line: number; kind: string }>,
  kinds: ReadonlyMap<string, number>,
  field: string,
  rows: number,
): string[] {
  const out: string[] = [];
  const list = [...classes].map(([name, c]) => ({ name, ...c }));
  const singles = list.filter((c) => c.count === 1);
  const shown = (cs: typeof list) =>
    `${cs
      .slice(0, 5)
      .map((c) => `'${c.name.length > 30 ? `${c.name.slice(0, 30)}…` : c.name}' (line ${c.line})`)
      .join(', ')}${cs.length > 5 ? ` and ${cs.length - 5} more` : ''}`;
  if (singles.length && singles.length < list.length && rows >= 2 * list.length) {
    out.push(
      `${singles.length} class${singles.length > 1 ? 'es have' : ' has'} a single row in field '${field}': ${shown(singles)}; a typo or a value of another kind? A one-row class is memorized by construction`,
    );
  }
  const [major] = [...kinds].sort((a, b) => b[1] - a[1]);
  if (major && kinds.size > 1) {
    const odd = list.filter((c) => c.kind !== major[0]);
    out.push(
      `label field '${field}' holds ${major[0]}s, but ${odd.length === 1 ? 'one label is' : `${odd.length} labels are`} not: ${shown(odd)}; each such label is a class of its own`,
    );
  }
  return out;
}

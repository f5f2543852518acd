/**
 * Shared types of the pure engine. Nothing here (or anywhere under src/engine) may import `vscode`.
 *
 * Positions: `line` is 1-based (as users and the CLI output count lines); `start`/`end` are 0-based
 * UTF-16 code-unit offsets within that line of the RAW file, end exclusive (VS Code's Position.character).
 */
export interface SourceRange {
  line: number;
  start: number;
  end: number;
}

/** A token of a row: its text (as decoded, e.g. after JSON unescaping) and where it sits in the raw file. */
export interface SourceToken extends SourceRange {
  text: string;
  /** Which text field (index into DatasetRow.fields order) it came from. */
  field: number;
  /**
   * For sub-word pieces (the ONNX featurizer): the index of the word this piece belongs to, counted within the row;
   * pieces of one word share it (the hover groups them). Absent for whole-word tokens.
   */
  word?: number;
}

/** A decoded text field value that can map any span of itself back to the raw file. */
export interface FieldValue {
  name: string;
  /** Decoded value (JSON escapes resolved, CSV quotes removed). */
  value: string;
  /**
   * Raw-file range of value.slice(start, end) (UTF-16 indices, end exclusive, end > start). `start` of the result is
   * where the raw encoding of value[start] begins, `end` where the raw encoding of value[end-1] ends (so an escaped
   * `\u00e9` counts 6 raw characters). If the span crosses a raw line break, the range is cut at the end of the first line.
   */
  rangeOf(start: number, end: number): SourceRange;
}

/** One parsed, valid training row. */
export interface DatasetRow {
  /** 0-based index among the valid rows, in input order. */
  index: number;
  /** 1-based line where the row starts in the raw file. */
  line: number;
  id: string;
  label: string;
  /** Text fields chosen for the model (in the order of --text), decoded. */
  fields: FieldValue[];
  /** For tabular data: numeric feature values, one per feature column (NaN if missing). */
  numeric?: Float64Array;
}

export interface SkippedRow {
  line: number;
  reason: string;
}

export interface DatasetSchema {
  format: 'jsonl' | 'csv' | 'tsv';
  labelField: string;
  textFields: string[];
  idField?: string;
  /** Set for tabular data: the numeric feature columns. */
  numericFields?: string[];
}

export interface Progress {
  stage: string;
  done: number;
  total: number;
  message?: string;
}

export type ProgressCallback = (p: Progress) => void;

export class DataError extends Error {
  constructor(
    message: string,
    readonly file?: string,
    readonly line?: number,
  ) {
    super(file ? `${file}${line ? `:${line}` : ''}: ${message}` : message);
    this.name = 'DataError';
  }
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

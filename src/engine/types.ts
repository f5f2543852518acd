/**
 * Shared types of the pure engine. Nothing here (or anywhere under src/engine) may import `vscode`.
 *
 * Positions: `line` is 1-based (as users and the CLI output count lines); `start`/`end` are 0-based
 * UTF-16 code-unit offsets within that line of the RAW file, end exclusive (VS Code's Position.character).
 */
import type { Segment } from './data/rawText';
import { type OptionKey, cliFlagOf, settingOf } from '../protocol/optionNames';

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
  /** Where the decoded characters sit in the raw file, run by run (absent for a value without a 1:1 mapping). */
  segments?: readonly Segment[];
}

/**
 * What reading keeps of every valid row: what every stage needs for all rows, without the decoded fields (their
 * values, raw-file ranges and segments), which readRowsAt (data/readRowsAt.ts) reads again from `offset` for the few
 * rows that need them (attributions, "Explain this row", the ranking panel's row text).
 */
export interface LeanRow {
  /** 0-based index among the valid rows, in input order. */
  index: number;
  /** 1-based line where the row starts in the raw file. */
  line: number;
  /** Byte offset in the raw file where line `line` starts (where the row's record starts). */
  offset: number;
  id: string;
  label: string;
  /** For tabular data: numeric feature values, one per feature column (NaN if missing). */
  numeric?: Float64Array;
  /**
   * The text fields' decoded values joined by a newline (what near-duplicate detection compares); kept only when
   * reading is asked to (ReadOptions.keepText), and never for tabular rows.
   */
  text?: string;
}

/** One parsed, valid training row with its decoded fields. */
export interface DatasetRow extends LeanRow {
  /** Text fields chosen for the model (in the order of --text), decoded; for tabular data, the numeric columns. */
  fields: FieldValue[];
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

/** What went wrong, for exit codes (CLI) and JSON-RPC error codes (worker). */
export type ErrorKind = 'usage' | 'data';

/**
 * The one error type users see: a kind, the message, and where it applies: the option it concerns (a key of
 * OPTION_NAMES, shown as `--l2` by the CLI and as `memorization.l2` in VS Code), or the file and line.
 */
export abstract class MemorizationError extends Error {
  abstract readonly kind: ErrorKind;
  /** The message without the option's name (the front end prefixes its own spelling of it). */
  readonly detail: string;
  readonly option?: OptionKey;
  constructor(detail: string, where: { option?: OptionKey; file?: string; line?: number } = {}) {
    const prefix = where.option
      ? `${cliFlagOf(where.option)} `
      : where.file
        ? `${where.file}${where.line ? `:${where.line}` : ''}: `
        : '';
    super(`${prefix}${detail}`);
    this.detail = detail;
    this.option = where.option;
  }

  /** The message as VS Code shows it: the option by its setting name. */
  forSettings(): string {
    return this.option ? `${settingOf(this.option)} ${this.detail}` : this.message;
  }
}

export class DataError extends MemorizationError {
  readonly kind = 'data';
  constructor(
    message: string,
    readonly file?: string,
    readonly line?: number,
  ) {
    super(message, { file, line });
    this.name = 'DataError';
  }
}

export class UsageError extends MemorizationError {
  readonly kind = 'usage';
  constructor(message: string, where: { option?: OptionKey } = {}) {
    super(message, where);
    this.name = 'UsageError';
  }
}

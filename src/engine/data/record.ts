import type { FieldValue } from '../types';

/** Kind of a field's value in one record. CSV cells are always 'string' (or 'missing' when absent). */
export type ValueKind = 'string' | 'number' | 'boolean' | 'null' | 'object' | 'missing';

/** One parsed record of the input, format-independent. */
export interface RawRecord {
  /** 1-based line where the record starts. */
  line: number;
  /** Byte offset where that line starts (-1 for error records): the record can be read again from there. */
  offset: number;
  /** When set, the record is unusable and is skipped with this reason. */
  error?: string;
  /** Field names present in the record, in file order. */
  names(): string[];
  kind(name: string): ValueKind;
  /** Scalar value as text (numbers/booleans via String); undefined when missing, null or not a scalar. */
  text(name: string): string | undefined;
  /** Decoded value with its raw mapping; undefined when missing, null or not a scalar. */
  field(name: string): FieldValue | undefined;
}

export interface RecordSourceOptions {
  /** Longer records are error records; no more than this is kept in memory while reading one. */
  maxRowChars: number;
  signal?: AbortSignal;
  onBytes?: (bytesRead: number) => void;
  /** Something suspicious about a record that is still read (e.g. a quoted field that swallowed rows). */
  onWarning?: (line: number, message: string) => void;
  /** Lines longer than this many bytes are read in pieces (tests use small pieces). Default 1 MiB. */
  pieceBytes?: number;
  /** Start at a record read before (its offset and line) instead of the start of the file. */
  start?: { offset: number; lineNo: number };
  /** CSV/TSV read from `start`: the header's field names, as the first read found them. */
  header?: readonly string[];
  /** Whether field() is wanted (raw-file ranges). Default true; false: only names(), kind() and text() work. */
  ranges?: boolean;
}

export function tooLong(chars: number, max: number): string {
  return `row is ${chars} characters, above the limit of ${max}`;
}

export function invalidUtf8(line: number): string {
  return `invalid UTF-8 on line ${line}`;
}

import type { FieldValue } from '../types';

/** Kind of a field's value in one record. CSV cells are always 'string' (or 'missing' when absent). */
export type ValueKind = 'string' | 'number' | 'boolean' | 'null' | 'object' | 'missing';

/** One parsed record of the input, format-independent. */
export interface RawRecord {
  /** 1-based line where the record starts. */
  line: number;
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
  maxRowChars: number;
  signal?: AbortSignal;
  onBytes?: (bytesRead: number) => void;
}

export function tooLong(chars: number, max: number): string {
  return `row is ${chars} characters, above the limit of ${max}`;
}

export function invalidUtf8(line: number): string {
  return `invalid UTF-8 on line ${line}`;
}

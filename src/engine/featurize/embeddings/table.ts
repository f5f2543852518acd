/**
 * The in-memory form of a precomputed embeddings file, whatever its format: n vectors of one width, optional ids,
 * and the checks every reader shares (one width, finite values, unique ids), each failing with one line that names
 * the file and the row.
 */
import { DataError } from '../../types';

export type EmbeddingFormat = 'npy' | 'parquet' | 'arrow' | 'jsonl';
export type EmbeddingDtype = 'float32' | 'float64';

export interface EmbeddingTable {
  file: string;
  format: EmbeddingFormat;
  /** Vectors in the file (null vectors included). */
  n: number;
  dim: number;
  /** The file's own precision (Parquet/Arrow/NumPy float32 stays float32: half the memory). */
  dtype: EmbeddingDtype;
  /** n x dim, row-major. Null vectors are zeros here and listed in `nulls`. */
  values: Float32Array | Float64Array;
  /** Per row, when the file has an id column; absent: the file is joined to the dataset by row order. */
  ids?: string[];
  idField?: string;
  /** id -> row; set by readEmbeddings, which also checks that the ids are unique. */
  index?: Map<string, number>;
  /** The column the vectors came from (Parquet, Arrow, JSONL). */
  vectorField?: string;
  /** Rows whose vector is null (Parquet, Arrow, JSONL): the dataset rows they join are skipped, not failed. */
  nulls?: Set<number>;
  /** `memscore.*` key-value metadata (written by `memscore featurize` into Parquet). */
  metadata?: Record<string, string>;
}

/** How a row of the embeddings file is named in messages: its 0-based position, its id, its line (JSONL). */
export interface RowName {
  row: number;
  id?: string;
  line?: number;
}

export function rowLabel({ row, id }: RowName): string {
  return `row ${row} (counting from 0)${id !== undefined ? `, id '${id}'` : ''}`;
}

/** The first non-finite value of a typed matrix, or undefined. */
export function firstNonFinite(
  values: ArrayLike<number>,
  dim: number,
): { row: number; col: number } | undefined {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    // v - v is NaN exactly for NaN and +-Infinity: one cheap comparison per value.
    if (v - v !== 0) return { row: Math.floor(i / dim), col: i % dim };
  }
  return undefined;
}

export function nonFiniteError(file: string, value: number, col: number, name: RowName): DataError {
  return new DataError(
    `${rowLabel(name)} has a non-finite value (${value}) at position ${col}; embeddings must be finite`,
    file,
    name.line,
  );
}

/** Throws a DataError naming the first row with a NaN or infinity. */
export function checkFinite(table: EmbeddingTable): void {
  const bad = firstNonFinite(table.values, table.dim);
  if (!bad) return;
  const value = table.values[bad.row * table.dim + bad.col];
  throw nonFiniteError(table.file, value, bad.col, { row: bad.row, id: table.ids?.[bad.row] });
}

/** Throws a DataError naming duplicate ids (the first few, with their rows, and how many there are in all). */
export function checkUniqueIds(file: string, ids: readonly string[]): Map<string, number> {
  const index = new Map<string, number>();
  const dups: string[] = [];
  let count = 0;
  for (let i = 0; i < ids.length; i++) {
    const first = index.get(ids[i]);
    if (first === undefined) {
      index.set(ids[i], i);
      continue;
    }
    count++;
    if (dups.length < 5) dups.push(`'${ids[i]}' (rows ${first} and ${i})`);
  }
  if (count)
    throw new DataError(
      `duplicate ids in the embeddings file: ${dups.join(', ')}${count > dups.length ? ` and ${count - dups.length} more` : ''}; each id needs exactly one vector`,
      file,
    );
  return index;
}

/** An id cell as the dataset's ids are written (strings; numbers and int64 as their decimal text). */
export function idText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'bigint') return v.toString();
  return undefined;
}

/**
 * Collects vectors one row at a time (Parquet and Arrow cells, JSONL lines) into one typed n x dim matrix, checking
 * the width and that every value is a finite number.
 */
export class VectorRows {
  private values: Float32Array | Float64Array;
  private rows = 0;
  dim = -1;
  readonly nulls = new Set<number>();

  constructor(
    private readonly file: string,
    readonly dtype: EmbeddingDtype,
    /** Expected row count (grows past it when unknown, as for JSONL). */
    private readonly capacity = 1024,
  ) {
    this.values = new (dtype === 'float32' ? Float32Array : Float64Array)(0);
  }

  get length(): number {
    return this.rows;
  }

  /** Adds one row: its vector, or null for a null cell. */
  add(vector: ArrayLike<unknown> | null, name: RowName): void {
    const i = this.rows++;
    if (vector === null) {
      this.nulls.add(i);
      return;
    }
    const d = vector.length;
    if (this.dim < 0) {
      if (d === 0) throw new DataError(`${rowLabel(name)} has an empty vector`, this.file, name.line);
      this.dim = d;
    } else if (d !== this.dim)
      throw new DataError(
        `${rowLabel(name)} has ${d} values, the rows before it ${this.dim}; all vectors need the same width`,
        this.file,
        name.line,
      );
    this.ensure((i + 1) * d);
    const out = this.values;
    const o = i * d;
    for (let j = 0; j < d; j++) {
      const v = vector[j];
      if (typeof v !== 'number') {
        if (typeof v === 'bigint') {
          out[o + j] = Number(v);
          continue;
        }
        throw new DataError(
          `${rowLabel(name)} has a ${v === null ? 'null' : typeof v} at position ${j}; embeddings must be numbers`,
          this.file,
          name.line,
        );
      }
      if (v - v !== 0) throw nonFiniteError(this.file, v, j, name);
      out[o + j] = v;
    }
  }

  private ensure(size: number): void {
    if (size <= this.values.length) return;
    const want = Math.max(size, this.capacity * Math.max(1, this.dim), 2 * this.values.length);
    const next = new (this.dtype === 'float32' ? Float32Array : Float64Array)(want);
    next.set(this.values);
    this.values = next;
  }

  /** The matrix, trimmed to the rows added; throws when no row had a vector. */
  finish(): { values: Float32Array | Float64Array; dim: number; n: number } {
    if (this.dim < 0)
      throw new DataError(
        this.rows ? 'every vector in the embeddings file is null' : 'the embeddings file has no rows',
        this.file,
      );
    const size = this.rows * this.dim;
    if (this.values.length < size) this.ensure(size);
    const values = this.values.length === size ? this.values : this.values.slice(0, size);
    return { values, dim: this.dim, n: this.rows };
  }
}

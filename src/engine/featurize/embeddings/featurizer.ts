/**
 * `embeddings:FILE`: per-row vectors computed elsewhere (a GPU box, a Spark or Ray job, `memscore featurize`) used
 * as the head's input as they are. They are joined to the dataset by id when the file has an id column (a row whose
 * id has no vector is skipped with the reason), else by row order, which must match the training rows exactly.
 * There are no token vectors, so no token attributions.
 */
import * as path from 'node:path';
import { DataError, type LeanRow, UsageError } from '../../types';
import type { FeaturizerReport, PooledBatch, RowPoolingFeaturizer, TokenFeatures } from '../featurizer';
import { COLUMN_OPTION, type ColumnChoice } from './columns';
import { readEmbeddings } from './read';
import type { EmbeddingTable } from './table';

export interface EmbeddingsFeaturizerOptions extends ColumnChoice {
  signal?: AbortSignal;
}

export const NO_TOKEN_VECTORS =
  'precomputed embeddings have no token vectors, so there are no token attributions, no reduction experiment and no "Explain this row"; use the words, numeric or onnx:DIR featurizer for those';

/** Reads FILE (.npy, .parquet, .arrow/.feather/.arrows, .jsonl) and returns its featurizer. */
export async function createEmbeddingsFeaturizer(
  file: string,
  options: EmbeddingsFeaturizerOptions = {},
): Promise<EmbeddingsFeaturizer> {
  return new EmbeddingsFeaturizer(await readEmbeddings(file, options));
}

const quoteSome = (xs: Iterable<string>, k = 3): string => {
  const out: string[] = [];
  for (const x of xs) {
    if (out.length === k) break;
    out.push(`'${x}'`);
  }
  return out.join(', ');
};

export class EmbeddingsFeaturizer implements RowPoolingFeaturizer {
  readonly name = 'embeddings';
  /** Joined by the row's id or its position: no decoded fields. */
  readonly poolsFrom = 'row' as const;
  readonly dim: number;
  /** Unused (nothing is pooled here); what the vectors most often are. */
  readonly pooling = 'mean' as const;
  readonly tokenLevel = false;
  /** Order join: each fitted row's position in the file. */
  private positions?: WeakMap<LeanRow, number>;
  private readonly counters = { rowsJoined: 0, rowsMissing: 0 };

  constructor(readonly table: EmbeddingTable) {
    this.dim = table.dim;
  }

  get joinedBy(): 'id' | 'order' {
    return this.table.index ? 'id' : 'order';
  }

  /** Checks the join against the training rows: counts for an order join, at least one shared id for an id join. */
  fit(rows: readonly LeanRow[]): void {
    const t = this.table;
    if (!t.index) {
      if (rows.length !== t.n)
        throw new DataError(
          `the embeddings file has ${t.n} vectors and the dataset ${rows.length} rows; a file without an id column is joined by row order, so the counts must match (add an id column, or name it with ${COLUMN_OPTION.idField})`,
          t.file,
        );
      this.positions = new WeakMap(rows.map((r, i) => [r, i]));
      return;
    }
    const index = t.index;
    if (rows.length && !rows.some((r) => index.has(r.id)))
      throw new DataError(
        `none of the dataset's ${rows.length} ids (${quoteSome(rows.map((r) => r.id))}...) is in the embeddings' id column '${t.idField}' (${quoteSome(index.keys())}...); is the dataset's id field (--id) the one the embeddings were made with?`,
        t.file,
      );
  }

  /** The file's row for a dataset row, or the reason it has none. */
  private position(row: LeanRow): number | string {
    const t = this.table;
    let pos: number | undefined;
    if (t.index) {
      pos = t.index.get(row.id);
      if (pos === undefined) return `no embedding for id '${row.id}'`;
    } else {
      if (!this.positions)
        throw new Error('EmbeddingsFeaturizer: fit() must see the training rows before pool()');
      pos = this.positions.get(row);
      if (pos === undefined)
        throw new DataError(
          `the embeddings file has no id column, so it is joined by row order to the training rows only; rows of another file (a test set) need ids: write the embeddings with an id column (memscore featurize does)`,
          t.file,
        );
    }
    if (t.nulls?.has(pos))
      return t.index ? `the embedding for id '${row.id}' is null` : `the embedding in row ${pos} is null`;
    return pos;
  }

  async pool(rows: readonly LeanRow[]): Promise<PooledBatch> {
    const D = this.dim;
    const values = this.table.values;
    const X = new Float64Array(rows.length * D);
    const missing = new Map<number, string>();
    for (let k = 0; k < rows.length; k++) {
      const pos = this.position(rows[k]);
      if (typeof pos === 'string') missing.set(k, pos);
      else X.set(values.subarray(pos * D, (pos + 1) * D), k * D);
    }
    this.counters.rowsJoined += rows.length - missing.size;
    this.counters.rowsMissing += missing.size;
    return missing.size ? { X, missing } : { X };
  }

  async featurize(): Promise<TokenFeatures[]> {
    throw new UsageError(NO_TOKEN_VECTORS);
  }

  describe(): string {
    const t = this.table;
    const join = t.index ? `joined by id column '${t.idField}'` : 'joined by row order';
    const source = t.metadata?.['memscore.featurizer'];
    return `embeddings:${path.basename(t.file)} (${t.n} x ${t.dim} ${t.dtype} ${t.format}, ${join}${source ? `, made by ${source}` : ''})`;
  }

  report(): FeaturizerReport {
    return {
      backend: `precomputed (${this.table.format}, read in JS)`,
      notes: [NO_TOKEN_VECTORS],
      counters: { ...this.counters },
    };
  }
}

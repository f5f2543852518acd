/** Writers of the embeddings formats that `memscore featurize` produces: Parquet, NumPy .npy and JSONL. */
import * as path from 'node:path';
import { UsageError } from '../../types';
import { JsonlWriter } from './jsonl';
import { NpyWriter } from './npy';
import { ParquetEmbeddingsWriter } from './parquet';
import type { EmbeddingDtype } from './table';

export type OutputFormat = 'parquet' | 'npy' | 'jsonl';

export interface EmbeddingsWriter {
  /** Appends rows: their ids and their vectors (ids.length x dim, row-major). */
  write(ids: readonly string[], X: Float64Array): Promise<void>;
  /** Finishes the file (footer, header row count). */
  close(): Promise<void>;
  /** Stops without finishing; the caller removes the file. */
  abort(): Promise<void>;
}

export function outputFormatOf(file: string): OutputFormat {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.parquet' || ext === '.pq') return 'parquet';
  if (ext === '.npy') return 'npy';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  throw new UsageError(`--out must end in .parquet, .npy or .jsonl, got '${path.basename(file)}'`);
}

/**
 * Opens a new file (it must not exist) for rows of `dim` values. An .npy file has no ids: it is joined to the
 * dataset by row order; Parquet and JSONL carry an `id` column.
 */
export async function openEmbeddingsWriter(
  file: string,
  format: OutputFormat,
  opts: { dim: number; dtype: EmbeddingDtype; metadata: Record<string, string> },
): Promise<EmbeddingsWriter> {
  if (format === 'parquet') return ParquetEmbeddingsWriter.create(file, opts.dim, opts.dtype, opts.metadata);
  if (format === 'jsonl') return JsonlWriter.create(file, opts.dim, opts.dtype);
  const npy = await NpyWriter.create(file, opts.dim, opts.dtype);
  return {
    write: (ids, X) => npy.write(X, ids.length),
    close: () => npy.close(),
    abort: () => npy.abort(),
  };
}

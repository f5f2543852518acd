/** Reads a precomputed embeddings file of any supported format into an EmbeddingTable (checked, ids unique). */
import { open, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { DataError } from '../../types';
import { readArrow } from './arrow';
import type { ColumnChoice } from './columns';
import { readJsonl } from './jsonl';
import { readNpy } from './npy';
import { readParquet } from './parquet';
import { checkUniqueIds, type EmbeddingFormat, type EmbeddingTable } from './table';

const EXTENSIONS: Record<string, EmbeddingFormat> = {
  '.npy': 'npy',
  '.parquet': 'parquet',
  '.pq': 'parquet',
  '.arrow': 'arrow',
  '.arrows': 'arrow',
  '.feather': 'arrow',
  '.ipc': 'arrow',
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
};

export const EMBEDDING_EXTENSIONS = Object.keys(EXTENSIONS);

export interface ReadEmbeddingsOptions extends ColumnChoice {
  signal?: AbortSignal;
}

/** The format by extension, else by the file's first bytes. */
async function formatOf(file: string): Promise<EmbeddingFormat> {
  const byExt = EXTENSIONS[path.extname(file).toLowerCase()];
  if (byExt) return byExt;
  const head = Buffer.alloc(8);
  const fh = await open(file, 'r');
  try {
    await fh.read(head, 0, 8, 0);
  } finally {
    await fh.close();
  }
  if (head.subarray(0, 4).toString('latin1') === 'PAR1') return 'parquet';
  if (head[0] === 0x93 && head.subarray(1, 6).toString('latin1') === 'NUMPY') return 'npy';
  if (head.subarray(0, 6).toString('latin1') === 'ARROW1' || head.readUInt32LE(0) === 0xffffffff)
    return 'arrow';
  if (head[0] === 0x7b /* { */) return 'jsonl';
  throw new DataError(
    `unknown embeddings format: expected ${EMBEDDING_EXTENSIONS.join(', ')} (NumPy n x d float32/float64, Parquet, Arrow IPC or JSONL)`,
    file,
  );
}

export async function readEmbeddings(
  file: string,
  opts: ReadEmbeddingsOptions = {},
): Promise<EmbeddingTable> {
  let format: EmbeddingFormat;
  try {
    format = await formatOf(file);
  } catch (err) {
    if (err instanceof DataError) throw err;
    throw new DataError(`cannot read the embeddings file: ${(err as Error).message}`, file);
  }
  const checkAbort = () => {
    opts.signal?.throwIfAborted();
  };
  let table: EmbeddingTable;
  if (format === 'jsonl') table = await readJsonl(file, opts, opts.signal);
  else {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(file, { signal: opts.signal });
    } catch (err) {
      checkAbort();
      throw new DataError(`cannot read the embeddings file: ${(err as Error).message}`, file);
    }
    checkAbort();
    if (format === 'npy') table = readNpy(file, bytes);
    else if (format === 'parquet') table = await readParquet(file, bytes, opts);
    else table = await readArrow(file, bytes, opts);
  }
  checkAbort();
  if (table.ids) table.index = checkUniqueIds(file, table.ids);
  return table;
}

/**
 * Parquet embeddings through `hyparquet` (reading) and `hyparquet-writer` (`memscore featurize`): a list column of
 * numbers (what pandas, pyarrow, Polars, Spark and Ray write for a list or fixed-size-list/array column), plus an
 * optional id column. Codecs: uncompressed and Snappy (hyparquet's own), gzip and Brotli (Node's zlib).
 * Both packages are ES modules loaded on first use, so the CLI and worker start without them.
 */
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import type { FileMetaData, SchemaTree } from 'hyparquet' with { 'resolution-mode': 'import' };
import { DataError } from '../../types';
import { type ColumnChoice, pickIdColumn, pickVectorColumn } from './columns';
import { type EmbeddingDtype, type EmbeddingTable, VectorRows, idText } from './table';

const NUMERIC_LEAVES = new Set(['FLOAT', 'DOUBLE', 'INT32', 'INT64']);

/** The leaf under a LIST column (3-level `col.list.element`, or a legacy 2-level or bare repeated field). */
function listLeaf(node: SchemaTree): SchemaTree | undefined {
  const e = node.element;
  const isList = e.converted_type === 'LIST' || e.logical_type?.type === 'LIST';
  if (!isList) return e.repetition_type === 'REPEATED' && !node.children.length ? node : undefined;
  let leaf = node;
  while (leaf.children.length === 1) leaf = leaf.children[0];
  return leaf.children.length ? undefined : leaf;
}

/** A hint for columns that are vectors in another form (Spark ML's VectorUDT struct). */
function structHint(columns: readonly SchemaTree[]): (name: string) => string | undefined {
  return (name) => {
    const node = columns.find((c) => c.element.name === name);
    const kids = node?.children.map((c) => c.element.name) ?? [];
    if (['type', 'size', 'indices', 'values'].every((k) => kids.includes(k)))
      return ` ('${name}' looks like a Spark ML vector: convert it with pyspark.ml.functions.vector_to_array)`;
    return undefined;
  };
}

/** Decompressors beyond Snappy that Node has built in. ZSTD and LZ4 are not among them. */
const COMPRESSORS = {
  GZIP: (input: Uint8Array) => new Uint8Array(gunzipSync(input)),
  BROTLI: (input: Uint8Array) => new Uint8Array(brotliDecompressSync(input)),
};

export async function readParquet(
  file: string,
  bytes: Uint8Array,
  choice: ColumnChoice,
): Promise<EmbeddingTable> {
  const hp = await import('hyparquet');
  // hyparquet reads an ArrayBuffer: the file's own when it is one (large files), else a copy of the slice.
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  const buffer = (
    whole ? bytes.buffer : bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)
  ) as ArrayBuffer;
  let metadata: FileMetaData;
  try {
    metadata = hp.parquetMetadata(buffer);
  } catch (err) {
    throw new DataError(`not a readable Parquet file (${plain(err)})`, file);
  }
  const columns = hp.parquetSchema(metadata).children;
  const names = columns.map((c) => c.element.name);
  const leaves = new Map<string, SchemaTree>();
  for (const c of columns) {
    const leaf = listLeaf(c);
    if (leaf?.element.type && NUMERIC_LEAVES.has(leaf.element.type)) leaves.set(c.element.name, leaf);
  }
  const vectorField = pickVectorColumn(
    file,
    choice.vectorField,
    names,
    [...leaves.keys()],
    'column',
    structHint(columns),
  );
  const idField = pickIdColumn(file, choice.idField, names);
  const dtype: EmbeddingDtype = leaves.get(vectorField)?.element.type === 'FLOAT' ? 'float32' : 'float64';

  const n = Number(metadata.num_rows);
  const chunks: { column: string; rowStart: number; data: ArrayLike<unknown> }[] = [];
  try {
    await hp.parquetRead({
      file: buffer,
      metadata,
      columns: idField ? [vectorField, idField] : [vectorField],
      compressors: COMPRESSORS,
      onChunk: (c) => chunks.push({ column: c.columnName, rowStart: c.rowStart, data: c.columnData }),
    });
  } catch (err) {
    const codec = /unsupported compression codec: (\w+)/.exec(plain(err))?.[1];
    throw new DataError(
      codec
        ? `the Parquet file is compressed with ${codec}, which is not supported here; write it with compression 'snappy', 'gzip' or none (pandas/pyarrow: compression='snappy'; Polars: compression='snappy')`
        : `cannot read the Parquet data (${plain(err)}): a truncated or damaged file`,
      file,
    );
  }
  chunks.sort((a, b) => a.rowStart - b.rowStart);

  const ids: string[] | undefined = idField ? new Array<string>(n) : undefined;
  if (ids) {
    let filled = 0;
    for (const c of chunks) {
      if (c.column !== idField) continue;
      for (let k = 0; k < c.data.length; k++) {
        const id = idText(c.data[k]);
        if (id === undefined)
          throw new DataError(
            `row ${c.rowStart + k} (counting from 0) has no id in column '${idField}'`,
            file,
          );
        ids[c.rowStart + k] = id;
      }
      filled += c.data.length;
    }
    if (filled !== n) throw new DataError(`the id column has ${filled} values for ${n} rows`, file);
  }
  const rows = new VectorRows(file, dtype, n);
  for (const c of chunks) {
    if (c.column !== vectorField) continue;
    if (c.rowStart !== rows.length)
      throw new DataError(`the vector column skips from row ${rows.length} to ${c.rowStart}`, file);
    for (let k = 0; k < c.data.length; k++) {
      const row = c.rowStart + k;
      rows.add((c.data[k] ?? null) as ArrayLike<unknown> | null, { row, id: ids?.[row] });
    }
  }
  const { values, dim } = rows.finish();
  if (rows.length !== n)
    throw new DataError(`the vector column has ${rows.length} values for ${n} rows`, file);
  const metaEntries = (metadata.key_value_metadata ?? []).filter((kv) => kv.key.startsWith('memscore.'));
  return {
    file,
    format: 'parquet',
    n,
    dim,
    dtype,
    values,
    vectorField,
    ...(ids ? { ids, idField } : {}),
    ...(rows.nulls.size ? { nulls: rows.nulls } : {}),
    ...(metaEntries.length
      ? { metadata: Object.fromEntries(metaEntries.map((kv) => [kv.key, kv.value ?? ''])) }
      : {}),
  };
}

function plain(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Rows per row group: big enough for efficient scans, small enough to keep the writer's memory low. */
const ROW_GROUP = 4096;

/**
 * Streams `id` (string) and `embedding` (list<float|double>) columns into a Snappy-compressed Parquet file, one row
 * group per 4,096 rows; `metadata` goes into the footer's key-value metadata.
 */
export class ParquetEmbeddingsWriter {
  private ids: string[] = [];
  private vectors: number[][] = [];

  private constructor(
    private readonly writer: import('hyparquet-writer', {
      with: { 'resolution-mode': 'import' },
    }).ParquetWriter,
    private readonly dim: number,
  ) {}

  static async create(
    path: string,
    dim: number,
    dtype: EmbeddingDtype,
    metadata: Record<string, string>,
  ): Promise<ParquetEmbeddingsWriter> {
    const hw = await import('hyparquet-writer');
    const { openSync, closeSync } = await import('node:fs');
    closeSync(openSync(path, 'wx')); // refuse to overwrite, as the other writers do
    const writer = new hw.ParquetWriter({
      writer: hw.fileWriter(path),
      schema: [
        { name: 'root', num_children: 2 },
        { name: 'id', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
        { name: 'embedding', repetition_type: 'REQUIRED', converted_type: 'LIST', num_children: 1 },
        { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
        { name: 'element', type: dtype === 'float32' ? 'FLOAT' : 'DOUBLE', repetition_type: 'REQUIRED' },
      ],
      statistics: false,
      kvMetadata: Object.entries(metadata).map(([key, value]) => ({ key, value })),
      createdBy: 'memscore featurize (hyparquet-writer)',
    });
    return new ParquetEmbeddingsWriter(writer, dim);
  }

  write(ids: readonly string[], X: Float64Array): Promise<void> {
    const D = this.dim;
    for (let k = 0; k < ids.length; k++) {
      this.ids.push(ids[k]);
      this.vectors.push(Array.from(X.subarray(k * D, (k + 1) * D)));
      if (this.ids.length >= ROW_GROUP) this.flush();
    }
    return Promise.resolve();
  }

  private flush(): void {
    if (!this.ids.length) return;
    this.writer.write({
      columnData: [
        { name: 'id', data: this.ids },
        { name: 'embedding', data: this.vectors },
      ],
      rowGroupSize: this.ids.length,
    });
    this.ids = [];
    this.vectors = [];
  }

  async close(): Promise<void> {
    this.flush();
    await this.writer.finish();
  }

  abort(): Promise<void> {
    this.ids = [];
    this.vectors = [];
    return Promise.resolve();
  }
}

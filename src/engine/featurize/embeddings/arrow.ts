/**
 * Arrow IPC embeddings (the file format, `.arrow`/`.feather` v2, and the stream format, `.arrows`) through
 * `apache-arrow`: a FixedSizeList or List column of floats or integers, plus an optional id column.
 * Loaded on first use, so the CLI and worker start without it.
 */
import { DataError } from '../../types';
import { type ColumnChoice, pickIdColumn, pickVectorColumn } from './columns';
import { type EmbeddingDtype, type EmbeddingTable, VectorRows, idText } from './table';

type Arrow = typeof import('apache-arrow', { with: { 'resolution-mode': 'import' } });

export async function readArrow(
  file: string,
  bytes: Uint8Array,
  choice: ColumnChoice,
): Promise<EmbeddingTable> {
  const arrow: Arrow = await import('apache-arrow');
  const { DataType, Precision } = arrow;
  let table: ReturnType<Arrow['tableFromIPC']>;
  try {
    table = arrow.tableFromIPC(bytes);
  } catch (err) {
    throw new DataError(
      `not a readable Arrow IPC file or stream (${(err as Error).message}): a truncated or damaged file, or compressed record batches (write them uncompressed)`,
      file,
    );
  }
  const fields = table.schema.fields;
  const names = fields.map((f) => f.name);
  const candidates = fields
    .filter((f) => {
      const t = f.type;
      if (!(DataType.isFixedSizeList(t) || DataType.isList(t) || DataType.isLargeList(t))) return false;
      const child = t.children[0]?.type;
      return DataType.isFloat(child) || DataType.isInt(child);
    })
    .map((f) => f.name);
  const vectorField = pickVectorColumn(file, choice.vectorField, names, candidates);
  const idField = pickIdColumn(file, choice.idField, names);
  const vectors = table.getChild(vectorField)!;
  const child = vectors.type.children[0].type;
  if (DataType.isFloat(child) && child.precision === Precision.HALF)
    throw new DataError(`the column '${vectorField}' holds float16 values; cast it to float32`, file);
  const dtype: EmbeddingDtype =
    DataType.isFloat(child) && child.precision === Precision.SINGLE ? 'float32' : 'float64';

  const n = table.numRows;
  let ids: string[] | undefined;
  if (idField) {
    const col = table.getChild(idField)!;
    ids = new Array<string>(n);
    for (let i = 0; i < n; i++) {
      const id = idText(col.get(i));
      if (id === undefined)
        throw new DataError(`row ${i} (counting from 0) has no id in column '${idField}'`, file);
      ids[i] = id;
    }
  }
  const rows = new VectorRows(file, dtype, n);
  for (let i = 0; i < n; i++) {
    // A row of a list vector is a Vector of its child type; toArray() is a typed view for floats.
    const cell = vectors.get(i) as { toArray(): ArrayLike<unknown> } | null;
    rows.add(cell === null ? null : cell.toArray(), { row: i, id: ids?.[i] });
  }
  const { values, dim } = rows.finish();
  const meta = [...table.schema.metadata].filter(([k]) => k.startsWith('memscore.'));
  return {
    file,
    format: 'arrow',
    n,
    dim,
    dtype,
    values,
    vectorField,
    ...(ids ? { ids, idField } : {}),
    ...(rows.nulls.size ? { nulls: rows.nulls } : {}),
    ...(meta.length ? { metadata: Object.fromEntries(meta) } : {}),
  };
}

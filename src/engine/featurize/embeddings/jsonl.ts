/**
 * JSONL embeddings: one object per line with a numeric array field (the vector) and, optionally, an id field,
 * e.g. `{"id": "r17", "embedding": [0.12, -0.5, ...]}`. Blank lines are ignored.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { DataError } from '../../types';
import { type EmbeddingDtype, type EmbeddingTable, VectorRows, idText } from './table';
import { type ColumnChoice, pickIdColumn, pickVectorColumn } from './columns';

function isNumericArray(v: unknown): boolean {
  return Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number');
}

export async function readJsonl(
  file: string,
  choice: ColumnChoice,
  signal?: AbortSignal,
): Promise<EmbeddingTable> {
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  // JSON numbers are doubles: keep float64.
  const rows = new VectorRows(file, 'float64');
  const ids: string[] = [];
  let vectorField: string | undefined;
  let idField: string | undefined;
  let lineNo = 0;
  try {
    for await (const text of lines) {
      lineNo++;
      if (!text.trim()) continue;
      signal?.throwIfAborted();
      const obj = parseLine(text, file, lineNo);
      if (vectorField === undefined) {
        const numeric = Object.keys(obj).filter((k) => isNumericArray(obj[k]));
        vectorField = pickVectorColumn(file, choice.vectorField, Object.keys(obj), numeric, 'field');
        idField = pickIdColumn(file, choice.idField, Object.keys(obj), 'field');
      }
      const name = { row: rows.length, line: lineNo, id: undefined as string | undefined };
      if (idField !== undefined) {
        const id = idText(obj[idField]);
        if (id === undefined)
          throw new DataError(
            `the id field '${idField}' is missing, null or not a string or number`,
            file,
            lineNo,
          );
        ids.push(id);
        name.id = id;
      }
      if (!(vectorField in obj)) throw new DataError(`no vector field '${vectorField}'`, file, lineNo);
      const v = obj[vectorField];
      if (v !== null && !Array.isArray(v))
        throw new DataError(`the vector field '${vectorField}' is not an array of numbers`, file, lineNo);
      rows.add(v as unknown[] | null, name);
    }
  } catch (err) {
    if (err instanceof DataError || signal?.aborted) throw err;
    throw new DataError(`cannot read the file: ${(err as Error).message}`, file);
  } finally {
    lines.close();
  }
  const { values, dim, n } = rows.finish();
  return {
    file,
    format: 'jsonl',
    n,
    dim,
    dtype: 'float64',
    values,
    vectorField,
    ...(idField !== undefined ? { ids, idField } : {}),
    ...(rows.nulls.size ? { nulls: rows.nulls } : {}),
  };
}

function parseLine(text: string, file: string, line: number): Record<string, unknown> {
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (err) {
    // Python's json.dumps writes NaN and Infinity, which JSON (and so JSON.parse) does not have.
    const nonFinite = /(?:^|[[,:\s])-?(?:NaN|Infinity)(?=[\s,\]}])/.test(text);
    throw new DataError(
      nonFinite
        ? 'a non-finite value (NaN or Infinity) in the vector; embeddings must be finite'
        : `not valid JSON (${(err as Error).message})`,
      file,
      line,
    );
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj))
    throw new DataError('expected one JSON object per line', file, line);
  return obj as Record<string, unknown>;
}

/** Shortest decimal text that reads back to the same float32 (9 significant digits always suffice). */
function float32Text(x: number): string {
  const f = Math.fround(x);
  for (let p = 6; p < 9; p++) {
    const s = Number(f.toPrecision(p));
    if (Math.fround(s) === f) return String(s);
  }
  return String(Number(f.toPrecision(9)));
}

/** Streams `{"id": ..., "embedding": [...]}` lines; float64 values are written exactly (shortest round trip). */
export class JsonlWriter {
  private constructor(
    private readonly stream: import('node:fs').WriteStream,
    private readonly dim: number,
    private readonly dtype: EmbeddingDtype,
  ) {}

  static async create(path: string, dim: number, dtype: EmbeddingDtype): Promise<JsonlWriter> {
    const stream = createWriteStream(path, { flags: 'wx' });
    await once(stream, 'open');
    return new JsonlWriter(stream, dim, dtype);
  }

  async write(ids: readonly string[], X: Float64Array): Promise<void> {
    const D = this.dim;
    const parts: string[] = [];
    for (let k = 0; k < ids.length; k++) {
      const v = X.subarray(k * D, (k + 1) * D);
      const nums = this.dtype === 'float32' ? Array.from(v, float32Text).join(',') : v.join(',');
      parts.push(`{"id":${JSON.stringify(ids[k])},"embedding":[${nums}]}\n`);
    }
    if (!this.stream.write(parts.join(''))) await once(this.stream, 'drain');
  }

  async close(): Promise<void> {
    this.stream.end();
    await once(this.stream, 'finish');
  }

  async abort(): Promise<void> {
    this.stream.destroy();
    await once(this.stream, 'close').catch(() => undefined);
  }
}

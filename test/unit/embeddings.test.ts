/**
 * Precomputed embeddings: every reader on files written here (.npy by hand, Parquet with hyparquet-writer, Arrow
 * with apache-arrow, JSONL), the id and order joins and their failures, and the round trip through
 * `memscore featurize` against the words featurizer's own pooled vectors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runFeaturize } from '../../src/cli/featurizeCommand';
import { readDataset } from '../../src/engine/data/readDataset';
import {
  createEmbeddingsFeaturizer,
  EmbeddingsFeaturizer,
  embeddingsFileOf,
} from '../../src/engine/featurize/embeddings/index';
import { createFeaturizer } from '../../src/engine/featurize/registry';
import { WordsFeaturizer } from '../../src/engine/featurize/words';
import { fit } from '../../src/engine/pipeline/fit';
import { scoreRows } from '../../src/engine/influence/scores';
import { DataError, type DatasetRow, UsageError } from '../../src/engine/types';
import { gaussian, maxAbsDiff, rng } from './helpers';

const dir = mkdtempSync(path.join(tmpdir(), 'memscore-embeddings-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
let fileNo = 0;
const tmp = (name: string) => path.join(dir, `${fileNo++}-${name}`);

const N = 6;
const D = 4;
/** N x D row-major, with values that float32 cannot hold exactly (so precision is visible). */
const r = rng(7);
const MATRIX = Float64Array.from({ length: N * D }, () => gaussian(r) / 3);
const IDS = Array.from({ length: N }, (_, i) => `r${i}`);
const row = (i: number, m: ArrayLike<number> = MATRIX) => Array.from(m).slice(i * D, (i + 1) * D);

/** A dataset file of N rows with ids r0..r5, two classes, and a text field (the reader needs one). */
function datasetFile(ids: readonly string[] = IDS): string {
  const f = tmp('data.jsonl');
  writeFileSync(
    f,
    ids
      .map((id, i) =>
        JSON.stringify({ id, label: i % 2 ? 'spam' : 'ham', text: `row ${i} says hello world` }),
      )
      .join('\n') + '\n',
  );
  return f;
}

async function datasetRows(ids: readonly string[] = IDS): Promise<DatasetRow[]> {
  return (await readDataset(datasetFile(ids), { id: 'id', text: ['text'], label: 'label' })).rows;
}

/** Asserts `promise` rejects with a DataError whose one-line message names `file` and matches `re`. */
async function rejectsData(promise: Promise<unknown>, file: string, re: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof DataError, `expected a DataError, got ${String(err)}`);
    assert.ok(err.message.startsWith(file), `message names the file: ${err.message}`);
    assert.match(err.message, re);
    assert.ok(!err.message.includes('\n'), 'one line');
    return true;
  });
}

// ---------------------------------------------------------------------------------------------------------------
// .npy, written by hand per the NumPy format spec

interface NpySpec {
  descr: string;
  fortran?: boolean;
  shape: number[];
  /** Values in C order (row-major); written in the order and byte order the header says. */
  values: ArrayLike<number>;
  version?: 1 | 2;
}

function npyBytes({ descr, fortran = false, shape, values, version = 1 }: NpySpec): Buffer {
  const dict = `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const pre = version === 1 ? 10 : 12;
  let len = dict.length + 1;
  while ((pre + len) % 64) len++;
  const header = Buffer.alloc(pre + len, 0x20);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]).copy(header);
  if (version === 1) header.writeUInt16LE(len, 8);
  else header.writeUInt32LE(len, 8);
  header.write(dict, pre, 'latin1');
  header[pre + len - 1] = 0x0a;
  const size = descr.endsWith('4') ? 4 : 8;
  const little = !descr.startsWith('>');
  const [n, d] = shape.length === 2 ? shape : [shape[0], 1];
  const data = Buffer.alloc(values.length * size);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < d; j++) {
      const v = values[i * d + j];
      const at = (fortran ? j * n + i : i * d + j) * size;
      if (size === 4) {
        if (little) data.writeFloatLE(v, at);
        else data.writeFloatBE(v, at);
      } else if (little) data.writeDoubleLE(v, at);
      else data.writeDoubleBE(v, at);
    }
  return Buffer.concat([header, data]);
}

function writeNpy(spec: NpySpec): string {
  const f = tmp('vectors.npy');
  writeFileSync(f, npyBytes(spec));
  return f;
}

test('npy: float32 little-endian C order and float64 big-endian Fortran order (format 2.0) read exactly', async () => {
  const f32 = await createEmbeddingsFeaturizer(writeNpy({ descr: '<f4', shape: [N, D], values: MATRIX }));
  assert.equal(f32.dim, D);
  assert.equal(f32.table.dtype, 'float32');
  assert.equal(f32.joinedBy, 'order');
  assert.deepEqual(Array.from(f32.table.values), Array.from(MATRIX, Math.fround));

  const f64 = await createEmbeddingsFeaturizer(
    writeNpy({ descr: '>f8', fortran: true, shape: [N, D], values: MATRIX, version: 2 }),
  );
  assert.equal(f64.table.dtype, 'float64');
  assert.deepEqual(Array.from(f64.table.values), Array.from(MATRIX));

  // Joined by row order to the dataset's rows.
  const rows = await datasetRows();
  f64.fit(rows);
  const pooled = await f64.pool([rows[4], rows[1]]);
  assert.deepEqual(Array.from(pooled.X), [...row(4), ...row(1)]);
  assert.equal(pooled.missing, undefined);
  assert.equal(f64.tokenLevel, false);
});

test('npy: big-endian float32 and little-endian Fortran float64', async () => {
  const be = await createEmbeddingsFeaturizer(writeNpy({ descr: '>f4', shape: [N, D], values: MATRIX }));
  assert.deepEqual(Array.from(be.table.values), Array.from(MATRIX, Math.fround));
  const fo = await createEmbeddingsFeaturizer(
    writeNpy({ descr: '<f8', fortran: true, shape: [N, D], values: MATRIX }),
  );
  assert.deepEqual(Array.from(fo.table.values), Array.from(MATRIX));
});

test('npy: bad dtype, 1-D shape, NaN, truncated and non-npy files are one clear error naming the file', async () => {
  let f = writeNpy({ descr: '<i4', shape: [N, D], values: MATRIX });
  await rejectsData(createEmbeddingsFeaturizer(f), f, /dtype '<i4'.*float32/);
  f = writeNpy({ descr: '<f4', shape: [N * D], values: MATRIX });
  await rejectsData(createEmbeddingsFeaturizer(f), f, /shape \(24\).*2-D/);
  const withNaN = Float64Array.from(MATRIX);
  withNaN[2 * D + 3] = NaN;
  f = writeNpy({ descr: '<f8', shape: [N, D], values: withNaN });
  await rejectsData(
    createEmbeddingsFeaturizer(f),
    f,
    /row 2 \(counting from 0\) has a non-finite value \(NaN\) at position 3/,
  );
  withNaN[2 * D + 3] = -Infinity;
  f = writeNpy({ descr: '>f4', fortran: true, shape: [N, D], values: withNaN });
  await rejectsData(createEmbeddingsFeaturizer(f), f, /row 2 .*-Infinity/);

  const whole = npyBytes({ descr: '<f4', shape: [N, D], values: MATRIX });
  f = tmp('truncated.npy');
  writeFileSync(f, whole.subarray(0, whole.length - 5));
  await rejectsData(
    createEmbeddingsFeaturizer(f),
    f,
    /truncated: the header says 6 x 4 float32 \(96 bytes of data\) but the file has 91/,
  );
  f = tmp('header-only.npy');
  writeFileSync(f, whole.subarray(0, 30));
  await rejectsData(createEmbeddingsFeaturizer(f), f, /truncated \.npy header/);
  f = tmp('not.npy');
  writeFileSync(f, 'hello, world\n');
  await rejectsData(createEmbeddingsFeaturizer(f), f, /not a NumPy \.npy file/);
  await rejectsData(
    createEmbeddingsFeaturizer(path.join(dir, 'absent.npy')),
    path.join(dir, 'absent.npy'),
    /cannot read/,
  );
});

/** NumPy itself, when this machine has it: the files np.save writes are what users bring. */
function numpy(script: string): string | undefined {
  try {
    return execFileSync('python3', ['-c', `import numpy as np\n${script}`], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch {
    return undefined;
  }
}

test('npy: files written by NumPy (np.save: float32 C, float64 Fortran, big-endian float32)', async (t) => {
  const base = tmp('np');
  const out = numpy(`
a = np.arange(15, dtype=np.float64).reshape(5, 3) / 7.0
np.save('${base}-c32.npy', a.astype('<f4'))
np.save('${base}-f64.npy', np.asfortranarray(a))
np.save('${base}-be32.npy', a.astype('>f4'))
print(__import__('json').dumps(a.tolist()))`);
  if (out === undefined) return t.skip('python3 with numpy is not installed');
  const expected = (JSON.parse(out) as number[][]).flat();
  const c32 = await createEmbeddingsFeaturizer(`${base}-c32.npy`);
  assert.deepEqual([c32.table.n, c32.dim], [5, 3]);
  assert.deepEqual(Array.from(c32.table.values), expected.map(Math.fround));
  const f64 = await createEmbeddingsFeaturizer(`${base}-f64.npy`);
  assert.deepEqual(Array.from(f64.table.values), expected);
  const be32 = await createEmbeddingsFeaturizer(`${base}-be32.npy`);
  assert.deepEqual(Array.from(be32.table.values), expected.map(Math.fround));
});

// ---------------------------------------------------------------------------------------------------------------
// Parquet, written with hyparquet-writer

interface ParquetColumn {
  name: string;
  /** 'FLOAT' | 'DOUBLE' list of numbers, or a scalar type. */
  list?: 'FLOAT' | 'DOUBLE';
  type?: 'BYTE_ARRAY' | 'INT64';
  data: unknown[];
  nullable?: boolean;
}

async function writeParquet(columns: ParquetColumn[], name = 'vectors.parquet'): Promise<string> {
  const hw = await import('hyparquet-writer');
  const schema: Record<string, unknown>[] = [{ name: 'root', num_children: columns.length }];
  for (const c of columns) {
    const repetition_type = c.nullable ? 'OPTIONAL' : 'REQUIRED';
    if (c.list)
      schema.push(
        { name: c.name, repetition_type, converted_type: 'LIST', num_children: 1 },
        { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
        { name: 'element', type: c.list, repetition_type: 'REQUIRED' },
      );
    else
      schema.push({
        name: c.name,
        type: c.type,
        repetition_type,
        ...(c.type === 'BYTE_ARRAY' ? { converted_type: 'UTF8' } : {}),
      });
  }
  const buf = hw.parquetWriteBuffer({
    columnData: columns.map((c) => ({ name: c.name, data: c.data })),
    schema: schema as never,
  });
  const f = tmp(name);
  writeFileSync(f, new Uint8Array(buf));
  return f;
}

const rowsOf = (m: ArrayLike<number>) => Array.from({ length: N }, (_, i) => row(i, m));

test('parquet: list<float> with string ids, joined by id whatever the order', async () => {
  const order = [3, 0, 5, 1, 4, 2];
  const f = await writeParquet([
    { name: 'id', type: 'BYTE_ARRAY', data: order.map((i) => IDS[i]) },
    { name: 'embedding', list: 'FLOAT', data: order.map((i) => row(i)) },
  ]);
  const emb = await createEmbeddingsFeaturizer(f);
  assert.equal(emb.table.dtype, 'float32');
  assert.equal(emb.joinedBy, 'id');
  const rows = await datasetRows();
  emb.fit(rows);
  const pooled = await emb.pool(rows);
  assert.deepEqual(Array.from(pooled.X), Array.from(MATRIX, Math.fround));
  assert.match(emb.describe(), /\(6 x 4 float32 parquet, joined by id column 'id'\)/);
});

test('parquet: list<double> without ids is joined by row order, exactly; int64 ids join decimal ids', async () => {
  const f = await writeParquet([{ name: 'vec', list: 'DOUBLE', data: rowsOf(MATRIX) }]);
  const emb = await createEmbeddingsFeaturizer(f);
  assert.equal(emb.joinedBy, 'order');
  const rows = await datasetRows();
  emb.fit(rows);
  assert.deepEqual(Array.from((await emb.pool(rows)).X), Array.from(MATRIX));

  const numeric = ['10', '11', '12', '13', '14', '15'];
  const g = await writeParquet([
    { name: 'doc', type: 'INT64', data: numeric.map((s) => BigInt(s)).reverse() },
    { name: 'vec', list: 'DOUBLE', data: rowsOf(MATRIX).reverse() },
  ]);
  const byId = await createEmbeddingsFeaturizer(g, { idField: 'doc' });
  const rows2 = await datasetRows(numeric);
  byId.fit(rows2);
  assert.deepEqual(Array.from((await byId.pool(rows2)).X), Array.from(MATRIX));
});

test('parquet: a null vector skips its row with the reason; several list columns need vectorField', async () => {
  const vectors: (number[] | null)[] = rowsOf(MATRIX);
  vectors[2] = null;
  const f = await writeParquet([
    { name: 'id', type: 'BYTE_ARRAY', data: IDS },
    { name: 'a', list: 'DOUBLE', data: vectors, nullable: true },
    { name: 'b', list: 'DOUBLE', data: rowsOf(MATRIX) },
  ]);
  await rejectsData(
    createEmbeddingsFeaturizer(f),
    f,
    /several columns hold lists of numbers \('a', 'b'\); choose one with --embeddings-vector/,
  );
  await rejectsData(
    createEmbeddingsFeaturizer(f, { vectorField: 'id' }),
    f,
    /the column 'id' is not a list of numbers/,
  );
  await rejectsData(
    createEmbeddingsFeaturizer(f, { vectorField: 'nope' }),
    f,
    /no column 'nope' \(columns: 'id', 'a', 'b'\)/,
  );
  const emb = await createEmbeddingsFeaturizer(f, { vectorField: 'a' });
  const rows = await datasetRows();
  emb.fit(rows);
  const pooled = await emb.pool(rows);
  assert.deepEqual([...(pooled.missing ?? [])], [[2, "the embedding for id 'r2' is null"]]);
  assert.deepEqual(Array.from(pooled.X.subarray(3 * D)), Array.from(MATRIX.subarray(3 * D)));
});

test('parquet: truncated or damaged files and a NaN are one clear error naming the file', async () => {
  const withNaN = rowsOf(MATRIX);
  withNaN[4][1] = NaN;
  let f = await writeParquet([
    { name: 'id', type: 'BYTE_ARRAY', data: IDS },
    { name: 'embedding', list: 'DOUBLE', data: withNaN },
  ]);
  await rejectsData(
    createEmbeddingsFeaturizer(f),
    f,
    /row 4 \(counting from 0\), id 'r4' has a non-finite value \(NaN\) at position 1/,
  );

  const good = readFileSync(
    await writeParquet([{ name: 'embedding', list: 'DOUBLE', data: rowsOf(MATRIX) }]),
  );
  f = tmp('truncated.parquet');
  writeFileSync(f, good.subarray(0, good.length - 20));
  await rejectsData(createEmbeddingsFeaturizer(f), f, /not a readable Parquet file/);
  // Footer intact, data pages overwritten: the damage shows when the pages are decoded (or as NaN values).
  const big = Array.from({ length: 400 }, (_, i) =>
    Array.from({ length: 16 }, (_, j) => Math.sin(i * 16 + j)),
  );
  const bytes = readFileSync(await writeParquet([{ name: 'embedding', list: 'DOUBLE', data: big }]));
  const damaged = Buffer.from(bytes);
  damaged.fill(0xff, 200, Math.floor(bytes.length / 2));
  f = tmp('damaged.parquet');
  writeFileSync(f, damaged);
  await rejectsData(
    createEmbeddingsFeaturizer(f),
    f,
    /cannot read the Parquet data|not a readable Parquet file|non-finite/,
  );
  f = tmp('not.parquet');
  writeFileSync(f, 'PAR1 and then nothing useful');
  await rejectsData(createEmbeddingsFeaturizer(f), f, /not a readable Parquet file/);
});

// ---------------------------------------------------------------------------------------------------------------
// Arrow IPC, written with apache-arrow

test('arrow: FixedSizeList<Float32> file and List<Float64> stream, with and without ids', async () => {
  const A = await import('apache-arrow');
  const f32 = Float32Array.from(MATRIX);
  const fsl = A.makeData({
    type: new A.FixedSizeList(D, new A.Field('item', new A.Float32())),
    length: N,
    nullCount: 0,
    child: A.makeData({ type: new A.Float32(), length: N * D, data: f32 }),
  });
  const ids = A.vectorFromArray([...IDS].reverse(), new A.Utf8());
  const reversed = Float32Array.from(
    { length: N * D },
    (_, k) => f32[(N - 1 - Math.floor(k / D)) * D + (k % D)],
  );
  const fslReversed = A.makeData({
    ...fsl,
    type: fsl.type,
    length: N,
    nullCount: 0,
    child: A.makeData({ type: new A.Float32(), length: N * D, data: reversed }),
  });
  const file = tmp('vectors.arrow');
  writeFileSync(file, A.tableToIPC(new A.Table({ id: ids, embedding: A.makeVector(fslReversed) }), 'file'));
  const emb = await createEmbeddingsFeaturizer(file);
  assert.equal(emb.table.dtype, 'float32');
  assert.equal(emb.joinedBy, 'id');
  const rows = await datasetRows();
  emb.fit(rows);
  assert.deepEqual(Array.from((await emb.pool(rows)).X), Array.from(f32));

  const offsets = Int32Array.from({ length: N + 1 }, (_, i) => i * D);
  const list = A.makeData({
    type: new A.List(new A.Field('item', new A.Float64())),
    length: N,
    nullCount: 0,
    valueOffsets: offsets,
    child: A.makeData({ type: new A.Float64(), length: N * D, data: Float64Array.from(MATRIX) }),
  });
  const stream = tmp('vectors.arrows');
  writeFileSync(stream, A.tableToIPC(new A.Table({ vectors: A.makeVector(list) }), 'stream'));
  const byOrder = await createEmbeddingsFeaturizer(stream);
  assert.equal(byOrder.joinedBy, 'order');
  byOrder.fit(rows);
  assert.deepEqual(Array.from((await byOrder.pool(rows)).X), Array.from(MATRIX));

  const bytes = readFileSync(file);
  const cut = tmp('truncated.arrow');
  writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
  await rejectsData(createEmbeddingsFeaturizer(cut), cut, /not a readable Arrow IPC file or stream/);
});

// ---------------------------------------------------------------------------------------------------------------
// JSONL

function writeJsonl(lines: string[]): string {
  const f = tmp('vectors.jsonl');
  writeFileSync(f, lines.join('\n') + '\n');
  return f;
}

const jsonLines = (ids: readonly string[] = IDS, m: ArrayLike<number> = MATRIX) =>
  ids.map((id, i) => JSON.stringify({ id, embedding: row(i, m) }));

test('jsonl: ids and vectors, exact float64; a dataset id without a vector is missing with its reason', async () => {
  const lines = jsonLines();
  lines.splice(3, 1, ''); // r3 has no vector; a blank line is ignored
  const emb = await createEmbeddingsFeaturizer(writeJsonl(lines));
  assert.equal(emb.table.n, N - 1);
  const rows = await datasetRows();
  emb.fit(rows);
  const pooled = await emb.pool(rows);
  assert.deepEqual([...(pooled.missing ?? [])], [[3, "no embedding for id 'r3'"]]);
  assert.deepEqual(Array.from(pooled.X.subarray(4 * D)), Array.from(MATRIX.subarray(4 * D)));
  assert.deepEqual(Array.from(pooled.X.subarray(3 * D, 4 * D)), [0, 0, 0, 0]);
  assert.deepEqual(emb.report().counters, { rowsJoined: N - 1, rowsMissing: 1 });
});

test('jsonl: NaN, a wrong width, bad JSON, a missing id and duplicate ids name the line or the ids', async () => {
  let lines = jsonLines();
  lines[2] = '{"id": "r2", "embedding": [0.1, NaN, 0.3, 0.4]}';
  let f = writeJsonl(lines);
  await rejectsData(createEmbeddingsFeaturizer(f), `${f}:3`, /non-finite value \(NaN or Infinity\)/);
  lines = jsonLines();
  lines[4] = '{"id": "r4", "embedding": [0.1, 0.2, 0.3]}';
  f = writeJsonl(lines);
  await rejectsData(
    createEmbeddingsFeaturizer(f),
    `${f}:5`,
    /row 4 .*id 'r4' has 3 values, the rows before it 4/,
  );
  lines = jsonLines();
  lines[1] = '{"id": "r1", "embedding": [0.1, 0.2';
  f = writeJsonl(lines);
  await rejectsData(createEmbeddingsFeaturizer(f), `${f}:2`, /not valid JSON/);
  lines = jsonLines();
  lines[5] = '{"embedding": [0.1, 0.2, 0.3, 0.4]}';
  f = writeJsonl(lines);
  await rejectsData(createEmbeddingsFeaturizer(f), `${f}:6`, /the id field 'id' is missing/);
  lines = jsonLines(['a', 'b', 'a', 'c', 'b', 'd']);
  f = writeJsonl(lines);
  await rejectsData(
    createEmbeddingsFeaturizer(f),
    f,
    /duplicate ids in the embeddings file: 'a' \(rows 0 and 2\), 'b' \(rows 1 and 4\)/,
  );
  lines = jsonLines();
  lines[1] = '{"id": "r1", "embedding": [0.1, "x", 0.3, 0.4]}';
  f = writeJsonl(lines);
  await rejectsData(
    createEmbeddingsFeaturizer(f, { vectorField: 'embedding' }),
    `${f}:2`,
    /a string at position 1/,
  );
});

// ---------------------------------------------------------------------------------------------------------------
// The joins

test('order join: the counts must match, and rows of another file are refused', async () => {
  const f = writeNpy({ descr: '<f8', shape: [N, D], values: MATRIX });
  const emb = await createEmbeddingsFeaturizer(f);
  const rows = await datasetRows();
  assert.throws(
    () => emb.fit(rows.slice(0, 5)),
    (e: unknown) =>
      e instanceof DataError && /has 6 vectors and the dataset 5 rows; .*joined by row order/.test(e.message),
  );
  emb.fit(rows);
  const testRows = await datasetRows();
  await assert.rejects(emb.pool(testRows.slice(0, 2)), /joined by row order to the training rows only/);
});

test('id join: no shared id at all is a data error that shows both kinds of ids', async () => {
  const emb = await createEmbeddingsFeaturizer(writeJsonl(jsonLines(['x0', 'x1', 'x2', 'x3', 'x4', 'x5'])));
  const rows = await datasetRows();
  assert.throws(
    () => emb.fit(rows),
    (e: unknown) =>
      e instanceof DataError &&
      /none of the dataset's 6 ids \('r0', 'r1', 'r2'\.\.\.\) is in the embeddings' id column 'id' \('x0', 'x1', 'x2'\.\.\.\)/.test(
        e.message,
      ),
  );
});

test('no token vectors: featurize() is a usage error that says so; the spec parser', async () => {
  const emb = await createEmbeddingsFeaturizer(writeJsonl(jsonLines()));
  await assert.rejects(
    emb.featurize(),
    (e: unknown) => e instanceof UsageError && /no token vectors/.test(e.message),
  );
  assert.equal(embeddingsFileOf('embeddings:/a/b.parquet'), '/a/b.parquet');
  assert.equal(embeddingsFileOf('onnx:/m'), undefined);
  assert.throws(() => embeddingsFileOf('embeddings:'), UsageError);
});

test('unknown extension: sniffed by content, else a clear error', async () => {
  const f = tmp('vectors.bin');
  writeFileSync(f, npyBytes({ descr: '<f8', shape: [N, D], values: MATRIX }));
  assert.equal((await createEmbeddingsFeaturizer(f)).table.format, 'npy');
  const g = tmp('vectors.txt');
  writeFileSync(g, 'id,embedding\n');
  await rejectsData(createEmbeddingsFeaturizer(g), g, /unknown embeddings format/);
});

// ---------------------------------------------------------------------------------------------------------------
// memscore featurize: the round trip

const TEXTS = [
  'win a free prize now',
  'meeting moved to friday afternoon',
  'cheap pills online, click here',
  'lunch tomorrow with the team?',
  'you have won a lottery, claim it',
  'the report is attached for review',
  'urgent: verify your account today',
  'can you send me the slides',
];

function textDataset(): string {
  const f = tmp('train.jsonl');
  writeFileSync(
    f,
    TEXTS.map((text, i) => JSON.stringify({ id: `m${i}`, label: i % 2 ? 'ham' : 'spam', text })).join('\n') +
      '\n',
  );
  return f;
}

async function featurize(args: string[]): Promise<string> {
  let printed = '';
  const code = await runFeaturize(args, (t) => (printed += t));
  assert.equal(code, 0);
  return printed;
}

test('featurize -> embeddings: Parquet, JSONL and .npy read back equal the words featurizer pooled vectors exactly', async () => {
  const train = textDataset();
  const rows = (await readDataset(train, {})).rows;
  const words = new WordsFeaturizer();
  const expected = (await words.pool(rows)).X;
  for (const ext of ['parquet', 'jsonl', 'npy']) {
    const out = path.join(dir, `features-${ext}.${ext}`);
    const printed = await featurize([train, '--featurizer', 'words', '--out', out]);
    assert.match(printed, new RegExp(`8 vectors of 100 float64 written to .*features-${ext}\\.${ext}`));
    const emb = await createEmbeddingsFeaturizer(out);
    assert.equal(emb.joinedBy, ext === 'npy' ? 'order' : 'id');
    emb.fit(rows);
    const got = (await emb.pool(rows)).X;
    assert.equal(maxAbsDiff(got, expected), 0, ext);
    if (ext === 'parquet') assert.match(emb.describe(), /made by words/);
  }
  // float32 halves the file and rounds each value once.
  const out32 = path.join(dir, 'features32.parquet');
  await featurize([train, '--out', out32, '--dtype', 'float32']);
  const emb32 = await createEmbeddingsFeaturizer(out32);
  emb32.fit(rows);
  assert.deepEqual(Array.from((await emb32.pool(rows)).X), Array.from(expected, Math.fround));
  const out32j = path.join(dir, 'features32.jsonl');
  await featurize([train, '--out', out32j, '--dtype', 'float32']);
  const embj = await createEmbeddingsFeaturizer(out32j);
  embj.fit(rows);
  assert.deepEqual(Array.from((await embj.pool(rows)).X, Math.fround), Array.from(expected, Math.fround));
  // No temporary file is left behind.
  assert.deepEqual(
    readdirSync(dir).filter((n) => n.endsWith('.tmp')),
    [],
  );
});

test('featurize -> embeddings: the numeric and ONNX featurizers round-trip too (.npy by order, Parquet by id)', async () => {
  const csv = tmp('table.csv');
  const g = rng(3);
  writeFileSync(
    csv,
    'id,label,a,b,c\n' +
      Array.from(
        { length: 10 },
        (_, i) => `t${i},${i % 2 ? 'x' : 'y'},${gaussian(g)},${gaussian(g) * 10},${i}`,
      ).join('\n') +
      '\n',
  );
  const read = await readDataset(csv, { tabular: true });
  const numericKind = await createFeaturizer(read, { featurizer: 'numeric' });
  numericKind.fit?.(read.rows);
  const expectedNumeric = (await numericKind.pool(read.rows)).X;
  const npy = path.join(dir, 'numeric.npy');
  await featurize([csv, '--featurizer', 'numeric', '--out', npy]);
  const byOrder = await createEmbeddingsFeaturizer(npy);
  byOrder.fit(read.rows);
  assert.equal(maxAbsDiff((await byOrder.pool(read.rows)).X, expectedNumeric), 0);

  const train = textDataset();
  const textRows = (await readDataset(train, {})).rows;
  const spec = `onnx:${path.resolve('test/fixtures/tiny-bert')}`;
  const onnx = await createFeaturizer(
    { ...(await readDataset(train, {})) },
    { featurizer: spec, cacheDir: false },
  );
  const expectedOnnx = (await onnx.pool(textRows)).X;
  const pq = path.join(dir, 'onnx.parquet');
  const printed = await featurize([train, '--featurizer', spec, '--no-cache', '--out', pq]);
  assert.match(printed, /8 vectors of 32 float64/);
  const byId = await createEmbeddingsFeaturizer(pq);
  byId.fit(textRows);
  assert.equal(maxAbsDiff((await byId.pool(textRows)).X, expectedOnnx), 0);
  assert.match(byId.describe(), /made by onnx:.*tiny-bert/);
});

test('featurize -> embeddings -> fit and score: the same scores as the words featurizer, with a row skipped', async () => {
  const train = textDataset();
  const rows = (await readDataset(train, {})).rows;
  const out = path.join(dir, 'features-score.jsonl');
  await featurize([train, '--out', out]);
  // Drop one row's vector: the join reports it missing and the rest score as before.
  const lines = readFileSync(out, 'utf8').trim().split('\n');
  writeFileSync(out, lines.filter((_, i) => i !== 5).join('\n') + '\n');
  const emb = await createEmbeddingsFeaturizer(out);
  emb.fit(rows);
  const pooled = await emb.pool(rows);
  assert.deepEqual([...(pooled.missing ?? [])], [[5, "no embedding for id 'm5'"]]);
  const keep = rows.filter((_, i) => !pooled.missing!.has(i));
  const Xwords = (await new WordsFeaturizer().pool(keep)).X;
  const Xemb = Float64Array.from(
    keep.flatMap((r) => Array.from(pooled.X.subarray(r.index * 100, (r.index + 1) * 100))),
  );
  assert.equal(maxAbsDiff(Xemb, Xwords), 0);
  const classes = ['ham', 'spam'];
  const y = Int32Array.from(keep, (r) => classes.indexOf(r.label));
  const score = async (featurizer: { dim: number; name: string }, X: Float64Array) => {
    const data = { X, y, n: keep.length };
    const fitted = fit({ classes, featurizer: featurizer as never, data }, { head: { l2: 0.1 } });
    return (await scoreRows(fitted.head, data, fitted.solver)).score;
  };
  const a = await score(emb, Xemb);
  const b = await score(new WordsFeaturizer(), Xwords);
  assert.ok(a.every(Number.isFinite));
  assert.equal(maxAbsDiff(a, b), 0);
});

test('featurize: refuses an --out that is the input (also through a link), bad flags, and leaves nothing behind', async () => {
  const train = textDataset();
  const before = readFileSync(train, 'utf8');
  await assert.rejects(runFeaturize([train, '--out', train.replace(/\.jsonl$/, '.jsonl')]), UsageError);
  const link = path.join(dir, 'link.jsonl');
  symlinkSync(train, link);
  await assert.rejects(runFeaturize([train, '--out', link]), /is the input file/);
  await assert.rejects(
    runFeaturize([train, '--out', path.join(dir, 'x.csv')]),
    /--out must end in \.parquet, \.npy or \.jsonl/,
  );
  await assert.rejects(
    runFeaturize([train, '--out', path.join(dir, 'y.npy'), '--dtype', 'float16']),
    /--dtype must be float64 or float32/,
  );
  await assert.rejects(runFeaturize([train]), /needs --out/);
  // A missing output folder is a usage error found before any reading, as for score and eval.
  await assert.rejects(
    runFeaturize([train, '--out', path.join(dir, 'no-such-folder', 'z.parquet')]),
    (e: unknown) => e instanceof UsageError && /--out .*no-such-folder.* does not exist/.test(e.message),
  );
  assert.equal(readFileSync(train, 'utf8'), before);
  assert.ok(!existsSync(path.join(dir, 'no-such-folder')));
  assert.deepEqual(
    readdirSync(dir).filter((n) => n.endsWith('.tmp')),
    [],
  );
});

test('EmbeddingsFeaturizer from a table: pool copies float32 rows into float64 and never aliases the file', async () => {
  const emb = new EmbeddingsFeaturizer({
    file: 'mem.npy',
    format: 'npy',
    n: 2,
    dim: 2,
    dtype: 'float32',
    values: Float32Array.from([1.5, -2, 3, 4]),
  });
  const rows = (await datasetRows()).slice(0, 2);
  emb.fit(rows);
  const { X } = await emb.pool(rows);
  X[0] = 99;
  assert.deepEqual(Array.from(emb.table.values), [1.5, -2, 3, 4]);
});

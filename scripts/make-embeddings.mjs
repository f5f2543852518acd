// Builds the precomputed-embeddings benchmark of issue 12 in a temp folder: a JSONL dataset (default 20,000 rows,
// 20 classes, ids, a short text field the reader needs) and its per-row vectors (default 768 wide, float32, as a
// GPU job writes them) in one or more embeddings formats; prints the files, the seconds each took to write, and the
// command that scores them. With --score it also runs that command (dist/cli.js: `npm run compile` first) and
// prints its wall time and per-stage seconds. flipped.json lists the ids whose label was flipped (the file
// `memscore eval noise --flipped` takes).
//
//   node scripts/make-embeddings.mjs [--rows 20000] [--dim 768] [--classes 20] [--formats parquet,npy,arrow,jsonl]
//                                    [--dtype float32|float64] [--flip 0.03] [--separation 4] [--seed 1] [--dir DIR] [--score]
//
// The vectors: class c's rows are mu_c + N(0, I) with mu_c ~ N(0, s^2 I), s = separation / sqrt(2 dim), so two
// class means are about --separation (default 4) noise deviations apart at any width; a share --flip of the rows carries a wrong label (those are what a memorization score should find). Rows
// are shuffled and the Parquet/Arrow/JSONL files list them in another order than the dataset, so the id join is
// exercised; the .npy file (no ids) is in dataset order.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, statSync, writeFileSync, createWriteStream, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mulberry32 } from './mulberry32.mjs';

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const rows = Number(flag('rows', 20_000));
const dim = Number(flag('dim', 768));
const classes = Number(flag('classes', 20));
const flip = Number(flag('flip', 0.03));
const seed = Number(flag('seed', 1));
const separation = Number(flag('separation', 4));
const dtype = flag('dtype', 'float32');
const formats = flag('formats', 'parquet').split(',');
const dir = flag('dir') ?? mkdtempSync(join(tmpdir(), 'memscore-embeddings-bench-'));
mkdirSync(dir, { recursive: true });

const rand = mulberry32(seed);
const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-300)) * Math.cos(2 * Math.PI * rand());
// Class means ~ N(0, s^2 I) with s chosen so two means lie about `separation` noise standard deviations apart.
const scale = separation / Math.sqrt(2 * dim);
const means = Array.from({ length: classes }, () =>
  Float64Array.from({ length: dim }, () => scale * gauss()),
);
const name = (c) => `c${String(c).padStart(2, '0')}`;
const X = dtype === 'float32' ? new Float32Array(rows * dim) : new Float64Array(rows * dim);
const labels = new Array(rows);
const flippedIds = [];
for (let i = 0; i < rows; i++) {
  const c = i % classes;
  const mu = means[c];
  for (let j = 0; j < dim; j++) X[i * dim + j] = mu[j] + gauss();
  let y = c;
  if (rand() < flip) {
    y = (c + 1 + Math.floor(rand() * (classes - 1))) % classes;
    flippedIds.push(`e${i}`);
  }
  labels[i] = name(y);
}
const ids = Array.from({ length: rows }, (_, i) => `e${i}`);

const timed = (what, fn) => {
  const t0 = performance.now();
  const file = fn();
  const s = (performance.now() - t0) / 1000;
  console.log(
    `${what.padEnd(10)} ${(statSync(file).size / 2 ** 20).toFixed(1).padStart(7)} MB  ${s.toFixed(1).padStart(5)} s  ${file}`,
  );
  return file;
};

const datasetFile = timed('dataset', () => {
  const f = join(dir, 'train.jsonl');
  writeFileSync(
    f,
    ids.map((id, i) => JSON.stringify({ id, label: labels[i], text: `synthetic row ${i}` })).join('\n') +
      '\n',
  );
  return f;
});

// Parquet/Arrow/JSONL rows in a shuffled order: the join is by id.
const order = Array.from({ length: rows }, (_, i) => i);
for (let i = rows - 1; i > 0; i--) {
  const j = Math.floor(rand() * (i + 1));
  [order[i], order[j]] = [order[j], order[i]];
}
const vector = (i) => X.subarray(i * dim, (i + 1) * dim);

const writers = {
  npy() {
    const f = join(dir, 'embeddings.npy');
    const dict = `{'descr': '${dtype === 'float32' ? '<f4' : '<f8'}', 'fortran_order': False, 'shape': (${rows}, ${dim}), }`;
    let len = dict.length + 1;
    while ((10 + len) % 64) len++;
    const header = Buffer.alloc(10 + len, 0x20);
    Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(header);
    header.writeUInt16LE(len, 8);
    header.write(dict, 10, 'latin1');
    header[9 + len] = 0x0a;
    writeFileSync(f, Buffer.concat([header, Buffer.from(X.buffer, X.byteOffset, X.byteLength)]));
    return f;
  },
  async parquet() {
    const f = join(dir, 'embeddings.parquet');
    const hw = await import('hyparquet-writer');
    const writer = new hw.ParquetWriter({
      writer: hw.fileWriter(f),
      schema: [
        { name: 'root', num_children: 2 },
        { name: 'id', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
        { name: 'embedding', repetition_type: 'REQUIRED', converted_type: 'LIST', num_children: 1 },
        { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
        { name: 'element', type: dtype === 'float32' ? 'FLOAT' : 'DOUBLE', repetition_type: 'REQUIRED' },
      ],
      statistics: false,
    });
    for (let b = 0; b < rows; b += 4096) {
      const part = order.slice(b, b + 4096);
      writer.write({
        columnData: [
          { name: 'id', data: part.map((i) => ids[i]) },
          { name: 'embedding', data: part.map((i) => Array.from(vector(i))) },
        ],
        rowGroupSize: part.length,
      });
    }
    writer.finish();
    return f;
  },
  async arrow() {
    const f = join(dir, 'embeddings.arrow');
    const A = await import('apache-arrow');
    const Float = dtype === 'float32' ? A.Float32 : A.Float64;
    const flat = new (dtype === 'float32' ? Float32Array : Float64Array)(rows * dim);
    order.forEach((i, k) => flat.set(vector(i), k * dim));
    const list = A.makeData({
      type: new A.FixedSizeList(dim, new A.Field('item', new Float())),
      length: rows,
      nullCount: 0,
      child: A.makeData({ type: new Float(), length: rows * dim, data: flat }),
    });
    const table = new A.Table({
      id: A.vectorFromArray(
        order.map((i) => ids[i]),
        new A.Utf8(),
      ),
      embedding: A.makeVector(list),
    });
    writeFileSync(f, A.tableToIPC(table, 'file'));
    return f;
  },
  async jsonl() {
    const f = join(dir, 'embeddings.jsonl');
    const out = createWriteStream(f);
    for (const i of order) {
      const text = `{"id":"${ids[i]}","embedding":[${Array.from(vector(i)).join(',')}]}\n`;
      if (!out.write(text)) await new Promise((res) => out.once('drain', res));
    }
    await new Promise((res) => out.end(res));
    return f;
  },
};

writeFileSync(join(dir, 'flipped.json'), JSON.stringify(flippedIds));
const files = {};
for (const fmt of formats) {
  if (!writers[fmt]) throw new Error(`unknown format '${fmt}' (npy, parquet, arrow, jsonl)`);
  const t0 = performance.now();
  const f = await writers[fmt]();
  files[fmt] = f;
  console.log(
    `${fmt.padEnd(10)} ${(statSync(f).size / 2 ** 20).toFixed(1).padStart(7)} MB  ${((performance.now() - t0) / 1000).toFixed(1).padStart(5)} s  ${f}`,
  );
}
console.log(
  `${rows} rows x ${dim} ${dtype}, ${classes} classes, ${flippedIds.length} labels flipped (seed ${seed}; their ids: ${join(dir, 'flipped.json')})`,
);
const first = files[formats[0]];
const command = [
  'dist/cli.js',
  'score',
  datasetFile,
  '--id',
  'id',
  '--text',
  'text',
  '--label',
  'label',
  '--featurizer',
  `embeddings:${first}`,
  '--summary',
  join(dir, 'summary.json'),
];
console.log(`score: node ${command.join(' ')}`);

if (args.includes('--score')) {
  const t0 = performance.now();
  try {
    execFileSync(process.execPath, command, { stdio: ['ignore', 'ignore', 'inherit'] });
  } catch (err) {
    console.log(`score failed (exit ${err.status}); does dist/cli.js know --featurizer embeddings:FILE yet?`);
    process.exit(1);
  }
  const wall = (performance.now() - t0) / 1000;
  const s = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
  const stages = Object.entries(s.seconds ?? {})
    .map(([k, v]) => `${k} ${v.toFixed(1)}`)
    .join(', ');
  console.log(
    `scored in ${wall.toFixed(1)} s end to end (target: under 60 s): ${stages}; peak ${s.peakMemoryMB?.toFixed(0)} MB; solver ${s.solver}`,
  );
}

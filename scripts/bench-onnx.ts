// ONNX featurizer benchmark (run by scripts/bench.mjs through tsx): rows/s of featurization against onnxruntime-node's
// raw session.run on exactly the same batches (the feeds the featurizer built, replayed on the same session), i.e.
// our overhead (tokenizing, offsets, padding, tensors, copying out); then tokenization alone.
//   node --import tsx scripts/bench-onnx.ts MODEL_DIR TRAIN.jsonl [--threads N] [--rows N] [--rounds N]
import { readDataset } from '../src/engine/data/readDataset';
import { OnnxFeaturizer } from '../src/engine/featurize/onnx/onnxFeaturizer';

const [dir, train, ...rest] = process.argv.slice(2);
const opt = (name: string) => {
  const i = rest.indexOf(`--${name}`);
  return i >= 0 ? rest[i + 1] : undefined;
};
const threads = Number(opt('threads') ?? 2);
const limit = Number(opt('rows') ?? Infinity);
const BATCH = 256; // as featurizeAll

async function main(): Promise<void> {
  const read = await readDataset(train, {});
  const rows = read.rows.slice(0, limit);
  const f = await OnnxFeaturizer.create({ dir, cacheDir: false, threads, recordFeeds: true, backend: 'cpu' });
  // Rounds over the rows in chunks of 256 (as featurizeAll): featurize a chunk, then at once replay the very feeds it
  // built on the raw session. Per chunk the best of the rounds is kept (the first round also warms up: onnxruntime
  // plans memory per input shape), so featurizer and raw times are taken side by side under the same machine load.
  // Our overhead is also measured directly: featurize time minus the time inside its own session.run calls.
  const rounds = Number(opt('rounds') ?? 3);
  const chunks = Math.ceil(rows.length / BATCH);
  const feat = new Array<number>(chunks).fill(Infinity);
  const inside = new Array<number>(chunks).fill(Infinity);
  const raw = new Array<number>(chunks).fill(Infinity);
  let runs = 0;
  let tokens = 0;
  for (let round = 0; round < rounds; round++) {
    runs = 0;
    tokens = 0;
    for (let c = 0; c < chunks; c++) {
      f.encoder.recorded.length = 0;
      const run0 = f.encoder.stats.runSeconds;
      const runs0 = f.encoder.stats.runs;
      const t0 = performance.now();
      const feats = await f.featurize(rows.slice(c * BATCH, (c + 1) * BATCH), { baseline: false });
      const sec = (performance.now() - t0) / 1000;
      for (const x of feats) tokens += x.tokens.length;
      runs += f.encoder.stats.runs - runs0;
      if (sec < feat[c]) {
        feat[c] = sec;
        inside[c] = f.encoder.stats.runSeconds - run0;
      }
      const t1 = performance.now();
      for (const feeds of f.encoder.recorded) await f.encoder.session.run(feeds, [f.output]);
      raw[c] = Math.min(raw[c], (performance.now() - t1) / 1000);
    }
  }
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const featSeconds = sum(feat);
  const inRunSeconds = sum(inside);
  const rawSeconds = sum(raw);

  const t2 = performance.now();
  for (const r of rows) f.encodeRow(r);
  const tokenizeSeconds = (performance.now() - t2) / 1000;

  const n = rows.length;
  const result = {
    model: f.describe(),
    backend: f.backend,
    rows: n,
    contentTokens: tokens,
    sessionRuns: runs,
    paddedTokens: f.encoder.stats.paddedTokens,
    featurizeSeconds: featSeconds,
    featurizeRowsPerSecond: n / featSeconds,
    sessionRunSecondsInside: inRunSeconds,
    rawSessionSeconds: rawSeconds,
    rawRowsPerSecond: n / rawSeconds,
    overheadPercent: (100 * (featSeconds - rawSeconds)) / rawSeconds,
    overheadDirectPercent: (100 * (featSeconds - inRunSeconds)) / inRunSeconds,
    rounds,
    tokenizeSeconds,
  };
  console.log(JSON.stringify(result));
  await f.dispose();
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});

// ONNX featurizer benchmark (run by scripts/bench.mjs through tsx): rows/s of the lean path (pool(), what the head
// gets for every row) and of featurize() (token vectors, for attributed rows) against onnxruntime-node's raw
// session.run on exactly the same batches (the feeds the featurizer built, replayed on the same session), i.e. our
// overhead; then where the time outside session.run goes: tokenizing, offset mapping (featurize only), tensor
// building, copying outputs, cache hashing, each timed alone on the same rows.
//   node --import tsx scripts/bench-onnx.ts MODEL_DIR TRAIN.jsonl [--threads N] [--rows N] [--rounds N]
import { readDataset } from '../src/engine/data/readDataset';
import { rowKey } from '../src/engine/featurize/onnx/cache';
import { gatherRows } from '../src/engine/featurize/onnx/encoder';
import { OnnxFeaturizer } from '../src/engine/featurize/onnx/onnxFeaturizer';
import { rowText } from '../src/engine/featurize/onnx/rowText';
import { loadOnnxRuntime, type OrtSession } from '../src/engine/featurize/onnx/runtime';

const [dir, train, ...rest] = process.argv.slice(2);
const opt = (name: string) => {
  const i = rest.indexOf(`--${name}`);
  return i >= 0 ? rest[i + 1] : undefined;
};
const threads = Number(opt('threads') ?? 2);
const limit = Number(opt('rows') ?? Infinity);
const BATCH = 256; // as the pipeline's poolAll

/** Wall and CPU seconds of fn (CPU: this process, all threads; robust to other processes on the machine). */
function timed(fn: () => void): { wall: number; cpu: number } {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  fn();
  const c = process.cpuUsage(c0);
  return { wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
}

/** Best of `rounds` runs of fn. */
function best(rounds: number, fn: () => void): { wall: number; cpu: number } {
  let b = { wall: Infinity, cpu: Infinity };
  for (let r = 0; r < rounds; r++) {
    const t = timed(fn);
    if (t.wall < b.wall) b = t;
  }
  return b;
}

async function main(): Promise<void> {
  const read = await readDataset(train, {});
  const rows = read.rows.slice(0, limit);
  const f = await OnnxFeaturizer.create({ dir, cacheDir: false, threads, recordFeeds: true, backend: 'cpu' });
  // Rounds over the rows in chunks of 256 (as poolAll): pool a chunk, then at once replay the very feeds it built on
  // the raw session; the same for featurize(). Per chunk the best of the rounds is kept (the first round also warms
  // up: onnxruntime plans memory per input shape), so featurizer and raw times are taken side by side under the same
  // machine load. The overhead is also measured directly: our time minus the time inside our own session.run calls.
  const rounds = Number(opt('rounds') ?? 3);
  const chunks = Math.ceil(rows.length / BATCH);
  const fill = () => new Array<number>(chunks).fill(Infinity);
  const lean = { ours: fill(), inside: fill(), raw: fill() };
  const full = { ours: fill(), inside: fill(), raw: fill() };
  let runs = 0;
  let tokens = 0;
  const measure = async (m: typeof lean, c: number, work: () => Promise<void>): Promise<void> => {
    f.encoder.recorded.length = 0;
    const run0 = f.encoder.stats.runSeconds;
    const t0 = performance.now();
    await work();
    const sec = (performance.now() - t0) / 1000;
    if (sec < m.ours[c]) {
      m.ours[c] = sec;
      m.inside[c] = f.encoder.stats.runSeconds - run0;
    }
    const t1 = performance.now();
    for (const feeds of f.encoder.recorded) await f.encoder.session.run(feeds, [f.output]);
    m.raw[c] = Math.min(m.raw[c], (performance.now() - t1) / 1000);
  };
  for (let round = 0; round < rounds; round++) {
    runs = 0;
    tokens = 0;
    for (let c = 0; c < chunks; c++) {
      const chunk = rows.slice(c * BATCH, (c + 1) * BATCH);
      const runs0 = f.encoder.stats.runs;
      await measure(lean, c, async () => {
        await f.pool(chunk);
      });
      runs += f.encoder.stats.runs - runs0;
      await measure(full, c, async () => {
        for (const x of await f.featurize(chunk, { baseline: false })) tokens += x.tokens.length;
      });
    }
  }
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const summary = (m: typeof lean) => {
    const ours = sum(m.ours);
    const inside = sum(m.inside);
    const raw = sum(m.raw);
    return {
      seconds: ours,
      rowsPerSecond: rows.length / ours,
      sessionRunSecondsInside: inside,
      rawSessionSeconds: raw,
      overheadPercent: (100 * (ours - raw)) / raw,
      overheadDirectPercent: (100 * (ours - inside)) / inside,
    };
  };
  const pooled = summary(lean);
  const featurized = summary(full);

  // Where the time outside session.run goes, each part alone on the same rows (best of the rounds).
  const texts = rows.map((r) => rowText(r).text);
  const encs = texts.map((t) => f.tokenizer.encode(t, f.maxLength));
  const tokenize = best(rounds, () => {
    for (const t of texts) f.tokenizer.encode(t, f.maxLength);
  });
  const encodeRow = best(rounds, () => {
    for (const r of rows) f.encodeRow(r);
  });
  const hashing = best(rounds, () => {
    for (const t of texts) rowKey(t);
  });
  const seqs = encs.map((e) => Int32Array.from(e.ids));
  const batches = f.encoder.plan(seqs.map((s) => s.length));
  const feeds = best(rounds, () => {
    for (const b of batches) f.encoder.buildFeeds(b.map((i) => seqs[i]));
  });
  // Copying out: featurize() copies each row's content vectors out of the output tensor (pool() reads in place).
  const D = f.dim;
  const contents = rows.map((r) => f.encodeRow(r).content);
  const outputs = batches.map((b) => new Float32Array(b.length * seqs[b[0]].length * D));
  const copying = best(rounds, () => {
    batches.forEach((b, j) => {
      const L = seqs[b[0]].length; // longest first
      b.forEach((i, k) => gatherRows(outputs[j], k * L, contents[i], D));
    });
  });

  // Everything but the session: pool() on a stubbed session.run that returns a zero output of the right shape at
  // once (allocating it, as onnxruntime does). CPU time of one JS thread, so other load on the machine barely moves it.
  const ort = loadOnnxRuntime();
  const session = f.encoder.session as { run: OrtSession['run'] };
  const realRun = session.run.bind(session);
  session.run = (async (feeds: Record<string, { dims: readonly number[] }>) => {
    const [B, L] = feeds.input_ids.dims.map(Number);
    return { [f.output]: new ort.Tensor('float32', new Float32Array(B * L * f.dim), [B, L, f.dim]) };
  }) as unknown as OrtSession['run'];
  const withoutSession = async (work: (chunk: typeof rows) => Promise<unknown>) => {
    let b = { wall: Infinity, cpu: Infinity };
    for (let r = 0; r < rounds; r++) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      for (let c = 0; c < chunks; c++) await work(rows.slice(c * BATCH, (c + 1) * BATCH));
      const cu = process.cpuUsage(c0);
      const t = { wall: (performance.now() - t0) / 1000, cpu: (cu.user + cu.system) / 1e6 };
      if (t.wall < b.wall) b = t;
    }
    return b;
  };
  const stubbed = await withoutSession((chunk) => f.pool(chunk));
  const stubbedFull = await withoutSession((chunk) => f.featurize(chunk, { baseline: false }));
  session.run = realRun;

  const n = rows.length;
  const result = {
    model: f.describe(),
    backend: f.backend,
    rows: n,
    contentTokens: tokens,
    sessionRuns: runs,
    rounds,
    // The lean path (pool(): every row the head sees): the headline figures.
    featurizeSeconds: pooled.seconds,
    featurizeRowsPerSecond: pooled.rowsPerSecond,
    sessionRunSecondsInside: pooled.sessionRunSecondsInside,
    rawSessionSeconds: pooled.rawSessionSeconds,
    rawRowsPerSecond: n / pooled.rawSessionSeconds,
    overheadPercent: pooled.overheadPercent,
    overheadDirectPercent: pooled.overheadDirectPercent,
    // featurize(): token vectors with their SourceTokens and ranges (attributed rows only).
    tokenFeatures: featurized,
    // Parts, seconds for all rows (wall, and CPU of this process).
    tokenizeSeconds: tokenize.wall,
    tokenizeCpuSeconds: tokenize.cpu,
    offsetMappingSeconds: Math.max(0, encodeRow.wall - tokenize.wall),
    tensorBuildingSeconds: feeds.wall,
    copyingOutputSeconds: copying.wall,
    cacheHashingSeconds: hashing.wall,
    tokenizesByPrefix: f.tokenizer.tokenizesByPrefix,
    // pool() with the session stubbed: all our work; its share of the raw session time is the overhead on a quiet
    // machine.
    poolWithoutSessionSeconds: stubbed.wall,
    poolWithoutSessionCpuSeconds: stubbed.cpu,
    poolWithoutSessionPercent: (100 * stubbed.wall) / pooled.rawSessionSeconds,
    featurizeWithoutSessionSeconds: stubbedFull.wall,
    featurizeWithoutSessionCpuSeconds: stubbedFull.cpu,
  };
  console.log(JSON.stringify(result));
  await f.dispose();
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});

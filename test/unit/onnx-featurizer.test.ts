// The ONNX featurizer (src/engine/featurize/onnx) on the tiny BERT fixture: features against an independent float64
// forward pass, the [MASK] baseline, offsets -> raw-file ranges (JSONL escapes, CSV quoting), truncation, the disk
// cache, the CUDA fallback, attributions with a non-zero baseline against brute-force integrated gradients, and the
// CLI end to end (a second run encodes nothing), plus the packaged layout without onnxruntime-node.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import {
  attributeRow,
  influenceAt,
  influenceDirection,
} from '../../src/engine/attribution/integratedInfluence';
import { readDataset } from '../../src/engine/data/readDataset';
import { prepare } from '../../src/engine/experiments/prepare';
import { reductionExperiment } from '../../src/engine/experiments/reduction';
import type { TokenFeatures } from '../../src/engine/featurize/featurizer';
import { FeatureCache } from '../../src/engine/featurize/onnx/cache';
import { chooseOutput } from '../../src/engine/featurize/onnx/exportDir';
import { OnnxFeaturizer } from '../../src/engine/featurize/onnx/onnxFeaturizer';
import { createSession } from '../../src/engine/featurize/onnx/runtime';
import { scoreRows } from '../../src/engine/influence/scores';
import { poolTokens } from '../../src/engine/featurize/tokenVectors';
import { buildSolver } from '../../src/engine/influence/solvers';
import { LinearHead, linearHeadKind } from '../../src/engine/model/linearHead';
import { optionsFromSettings } from '../../src/engine/pipeline/optionSources';
import { poolAll } from '../../src/engine/pipeline/prepare';
import { scoreDataset } from '../../src/engine/pipeline/scoreJob';
import type { DatasetRow } from '../../src/engine/types';
import { denseBackend } from '../../src/engine/backends';
import { backendTooltip, shortBackend } from '../../src/extension/backendLabel';
import { settingPath } from '../../src/extension/settingPath';
import { InfoRequest, ScoreRequest } from '../../src/protocol/messages';
import { maxAbs, maxAbsDiff } from './helpers';
import { TINY_BERT_DIR, loadTinyBertWeights, tinyBertForward } from './tinyBertReference';
import { withWorker, workerJs } from './workerProcess';

const root = resolve(__dirname, '../..');
const cli = join(root, 'dist/cli.js');
const dir = mkdtempSync(join(tmpdir(), 'memscore-onnx-'));
const errors: Record<string, number> = {};
function record(name: string, err: number): void {
  errors[name] = Math.max(errors[name] ?? 0, err);
}
test.after(() => console.log('largest errors of the onnx checks:', JSON.stringify(errors)));

const REVIEWS = [
  'a great movie with wonderful acting and a beautiful story',
  'the worst film i have seen, boring plot and terrible actors',
  'free money, click here to win cash now',
  'thanks for the help, see you at the meeting',
  'excellent book, i loved the characters',
  'awful service and poor quality, never again',
];

function writeJsonl(name: string, n: number, extra: string[] = []): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const k = i % REVIEWS.length;
    lines.push(JSON.stringify({ id: `r${i}`, text: `${REVIEWS[k]} ${i % 7}`, label: k % 2 ? 'neg' : 'pos' }));
  }
  const file = join(dir, name);
  writeFileSync(file, `${[...lines, ...extra].join('\n')}\n`);
  return file;
}

async function rowsOf(file: string, text?: string[]): Promise<DatasetRow[]> {
  return (await readDataset(file, { text, label: 'label' })).rows;
}

/** The reference network's output k at a row's positions (ids as the featurizer encodes them). */
function reference(ids: ArrayLike<number>, k: number): Float64Array {
  const w = loadTinyBertWeights();
  const seq = Array.from(ids);
  return tinyBertForward(w, [seq], [seq.map(() => 1)])[k];
}

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return maxAbsDiff(a, b) / Math.max(maxAbs(b), 1e-12);
}

test('onnx: per-token features, pooled features and the [MASK] baseline equal the float64 reference', async () => {
  const f = await OnnxFeaturizer.create({ dir: TINY_BERT_DIR, cacheDir: false });
  const layers = loadTinyBertWeights().config.layers;
  assert.equal(f.output, 'last_hidden_state');
  assert.equal(f.dim, 32);
  const rows = await rowsOf(writeJsonl('ref.jsonl', 12));
  const feats = await f.featurize(rows, { baseline: true });
  for (let i = 0; i < rows.length; i++) {
    const enc = f.encodeRow(rows[i]);
    const D = f.dim;
    const T = enc.content.length;
    assert.equal(feats[i].tokens.length, T);
    // Special tokens are run but neither pooled nor attributed; the sequence is [CLS] ... [SEP].
    assert.equal(enc.ids[0], f.tokenizer.clsId);
    assert.equal(enc.ids[enc.ids.length - 1], f.tokenizer.sepId);
    assert.equal(T, enc.ids.length - 2);
    const ref = reference(enc.ids, layers);
    const refBase = reference(enc.maskedIds, layers);
    const E = new Float64Array(T * D);
    const B = new Float64Array(T * D);
    for (let t = 0; t < T; t++) {
      E.set(ref.subarray(enc.content[t] * D, (enc.content[t] + 1) * D), t * D);
      B.set(refBase.subarray(enc.content[t] * D, (enc.content[t] + 1) * D), t * D);
    }
    const eTok = maxAbsDiff(feats[i].E, E);
    const eBase = maxAbsDiff(feats[i].Ebase, B);
    const ePool = maxAbsDiff(poolTokens(feats[i], 'mean'), poolTokens({ ...feats[i], E }, 'mean'));
    record('per-token E vs reference (abs)', eTok);
    record('[MASK] baseline vs reference (abs)', eBase);
    record('pooled E vs reference (abs)', ePool);
    assert.ok(eTok < 1e-4 && eBase < 1e-4 && ePool < 1e-4, `${eTok} ${eBase} ${ePool}`);
    // The baseline is the [MASK] sequence: specials kept, every other token [MASK]; and it is not zero.
    assert.deepEqual(
      Array.from(enc.maskedIds),
      Array.from(enc.ids, (id, p) => (p === 0 || p === enc.ids.length - 1 ? id : f.tokenizer.maskId)),
    );
    assert.ok(maxAbs(feats[i].Ebase) > 0.1);
  }
  // Padded batches give the same features as one row at a time.
  const one = await f.featurize([rows[3]], { baseline: false });
  record('batched vs single row (abs)', maxAbsDiff(one[0].E, feats[3].E));
  assert.ok(maxAbsDiff(one[0].E, feats[3].E) < 1e-5);
  assert.equal(one[0].Ebase.length, 0, 'no baseline when not asked for');

  // An intermediate layer by index and by name.
  const f1 = await OnnxFeaturizer.create({ dir: TINY_BERT_DIR, cacheDir: false, layer: '1' });
  assert.equal(f1.output, 'hidden_states.1');
  const g = await f1.featurize([rows[0]], { baseline: false });
  const enc = f1.encodeRow(rows[0]);
  const ref1 = reference(enc.ids, 1);
  const D = f1.dim;
  const want = new Float64Array(enc.content.length * D);
  enc.content.forEach((p, t) => want.set(ref1.subarray(p * D, (p + 1) * D), t * D));
  record('hidden_states.1 vs reference (abs)', maxAbsDiff(g[0].E, want));
  assert.ok(maxAbsDiff(g[0].E, want) < 1e-4);
  assert.equal(
    chooseOutput(['last_hidden_state', 'hidden_states.0', 'hidden_states.2'], '-1'),
    'hidden_states.2',
  );
  assert.throws(() => chooseOutput(['last_hidden_state'], '3'), /no hidden_states/);
  assert.throws(() => chooseOutput(['last_hidden_state'], 'nope'), /no such output/);
});

/** Lean path: pool() against featurize() and the float64 reference, with and without the cache. */
function writeFieldsJsonl(name: string, n: number): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const k = i % REVIEWS.length;
    // Every third row is long (truncated at 16 tokens); one has an empty text field; subjects carry accents.
    const text =
      i % 3 === 0 ? `${REVIEWS[k]} and ${REVIEWS[(k + 1) % REVIEWS.length]} ${i}` : `${REVIEWS[k]} ${i}`;
    lines.push(
      JSON.stringify({
        id: `p${i}`,
        subject: i === 4 ? '' : `Café ${i % 5}`,
        text: i === 7 ? '' : text,
        label: k % 2 ? 'neg' : 'pos',
      }),
    );
  }
  const file = join(dir, name);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

test("onnx: pool() equals the mean of featurize()'s E exactly, reports the same truncation, and matches the float64 reference", async () => {
  const f = await OnnxFeaturizer.create({ dir: TINY_BERT_DIR, cacheDir: false, maxLength: 16 });
  const rows = await rowsOf(writeFieldsJsonl('pool.jsonl', 30), ['subject', 'text']);
  const D = f.dim;
  // Raw-file ranges are only computed for truncated rows: count the fields' rangeOf calls per row.
  const rangeCalls = new Map<number, number>();
  const spied = rows.map((row, i) => ({
    ...row,
    fields: row.fields.map((fv) => ({
      ...fv,
      rangeOf: (a: number, b: number) => {
        rangeCalls.set(i, (rangeCalls.get(i) ?? 0) + 1);
        return fv.rangeOf(a, b);
      },
    })),
  }));
  const pooled = await f.pool(spied);
  assert.equal(pooled.X.length, rows.length * D);
  assert.deepEqual(
    [...rangeCalls.keys()].sort((a, b) => a - b),
    [...(pooled.truncated?.keys() ?? [])].sort((a, b) => a - b),
  );
  assert.equal(f.report().counters.rowsEncoded, rows.length);
  const feats = await f.featurize(rows, { baseline: false });
  const layers = loadTinyBertWeights().config.layers;
  let truncatedRows = 0;
  for (let i = 0; i < rows.length; i++) {
    const got = pooled.X.subarray(i * D, (i + 1) * D);
    // Bit for bit: the same encoder outputs, the same arithmetic in the same order.
    assert.deepEqual(got, poolTokens(feats[i], 'mean'), `row ${i}`);
    assert.deepEqual(pooled.truncated?.get(i), feats[i].truncated, `truncation of row ${i}`);
    if (feats[i].truncated) truncatedRows++;
    const enc = f.encodeRow(rows[i]);
    const ref = reference(enc.ids, layers);
    const want = new Float64Array(D);
    for (const p of enc.content) for (let l = 0; l < D; l++) want[l] += ref[p * D + l] / enc.content.length;
    record('pool() vs reference mean (abs)', maxAbsDiff(got, want));
    assert.ok(maxAbsDiff(got, want) < 1e-4);
  }
  assert.ok(truncatedRows >= 5, `${truncatedRows} truncated rows`);
  assert.equal(pooled.truncated?.size, truncatedRows);
  // Rows pooled alone give what they give in a batch (padding is masked out).
  const one = await f.pool([rows[3]]);
  record('pool() single row vs batched (abs)', maxAbsDiff(one.X, pooled.X.subarray(3 * D, 4 * D)));
  assert.ok(maxAbsDiff(one.X, pooled.X.subarray(3 * D, 4 * D)) < 1e-5);
});

test('onnx: pool() fills the cache that featurize() and a warm pool() read, with the same values and ranges', async () => {
  const cacheDir = mkdtempSync(join(tmpdir(), 'memscore-onnx-pool-cache-'));
  const rows = await rowsOf(writeFieldsJsonl('pool-cache.jsonl', 24), ['subject', 'text']);
  const a = await OnnxFeaturizer.create({ dir: TINY_BERT_DIR, cacheDir, maxLength: 16 });
  const cold = await a.pool(rows);
  const ca = a.report().counters;
  assert.equal(ca.rowsEncoded, 24);
  assert.equal(ca.cacheWrites, 24);
  const b = await OnnxFeaturizer.create({ dir: TINY_BERT_DIR, cacheDir, maxLength: 16 });
  const warm = await b.pool(rows);
  const feats = await b.featurize(rows, { baseline: false });
  const cb = b.report().counters;
  assert.equal(cb.sessionRuns, 0, 'a warm pool() and featurize() run no session');
  assert.equal(cb.cacheHits, 48);
  assert.deepEqual(warm.X, cold.X);
  assert.deepEqual([...(warm.truncated ?? [])], [...(cold.truncated ?? [])]);
  const fresh = await OnnxFeaturizer.create({ dir: TINY_BERT_DIR, cacheDir: false, maxLength: 16 });
  const want = await fresh.featurize(rows, { baseline: false });
  for (let i = 0; i < rows.length; i++) {
    assert.deepEqual(warm.X.subarray(i * 32, (i + 1) * 32), poolTokens(feats[i], 'mean'));
    // The tokenization pool() stored gives featurize() the tokens and ranges of tokenizing afresh.
    assert.deepEqual(feats[i].tokens, want[i].tokens);
    assert.deepEqual(feats[i].truncated, want[i].truncated);
  }
});

/** JSON-decodes a raw slice of a JSON string value. */
const decodeJson = (raw: string) => JSON.parse(`"${raw}"`) as string;

test('onnx: sub-word pieces map to their exact characters across JSON escapes and CSV quoting', async () => {
  const f = await OnnxFeaturizer.create({ dir: TINY_BERT_DIR, cacheDir: false });
  const jsonl = join(dir, 'escapes.jsonl');
  const raw =
    '{"id":"e1","label":"pos","subject":"Caf\\u00e9 \\"offer\\"","text":"na\\u00efve \\"unbelievable\\" deals\\nfor you\\t\\u4e2d!"}';
  writeFileSync(jsonl, `${raw}\n{"id":"e2","label":"neg","subject":"hi","text":"plain text here"}\n`);
  const rows = await rowsOf(jsonl, ['subject', 'text']);
  const [feat] = await f.featurize([rows[0]], { baseline: false });
  assert.ok(feat.tokens.length > 5);
  const words = new Map<number, string[]>();
  for (const t of feat.tokens) {
    assert.equal(t.line, 1);
    const decoded = decodeJson(raw.slice(t.start, t.end));
    assert.equal(decoded, t.text, `raw ${raw.slice(t.start, t.end)} -> ${decoded} vs ${t.text}`);
    assert.ok(t.word !== undefined);
    words.set(t.word, [...(words.get(t.word) ?? []), t.text]);
  }
  const texts = feat.tokens.map((t) => t.text);
  assert.ok(texts.includes('Café'), texts.join('|'));
  // "unbelievable" is split into pieces; they share one word index and cover the word exactly, in order.
  const multi = [...words.values()].filter((p) => p.length > 1);
  assert.ok(
    multi.some((p) => p.join('') === 'unbelievable'),
    JSON.stringify([...words.values()]),
  );
  // Ranges never overlap and are in order.
  for (let i = 1; i < feat.tokens.length; i++) assert.ok(feat.tokens[i].start >= feat.tokens[i - 1].end);

  const csv = join(dir, 'quoted.csv');
  const csvText = 'id,text,label\nc1,"He said ""unbelievable"", then left, café",pos\nc2,plain words,neg\n';
  writeFileSync(csv, csvText);
  const crows = await rowsOf(csv, ['text']);
  const [cf] = await f.featurize([crows[0]], { baseline: false });
  const line2 = csvText.split('\n')[1];
  for (const t of cf.tokens) {
    assert.equal(t.line, 2);
    assert.equal(line2.slice(t.start, t.end).replace(/""/g, '"'), t.text);
  }
  assert.ok(cf.tokens.some((t) => t.text === '"'));
  assert.ok(cf.tokens.map((t) => t.text).includes('café'));
});

test('onnx: rows over the max length are truncated and the cut-off text is reported', async () => {
  const f = await OnnxFeaturizer.create({ dir: TINY_BERT_DIR, cacheDir: false, maxLength: 8 });
  const file = join(dir, 'long.jsonl');
  const text = 'the movie was great and the acting was wonderful but the plot was boring';
  const line = JSON.stringify({ id: 'l1', label: 'pos', text });
  writeFileSync(file, `${line}\n${JSON.stringify({ id: 'l2', label: 'neg', text: 'bad film' })}\n`);
  const rows = await rowsOf(file);
  const [long, short] = await f.featurize(rows, { baseline: true });
  assert.equal(long.tokens.length, 6, '8 positions minus [CLS] and [SEP]');
  assert.ok(long.truncated?.length, 'truncation reported');
  const cut = long.truncated![0];
  assert.equal(cut.line, 1);
  const lastToken = long.tokens[long.tokens.length - 1];
  assert.ok(cut.start >= lastToken.end);
  assert.equal(line.slice(cut.start, cut.end), text.slice(text.indexOf('acting')));
  assert.deepEqual(
    long.tokens.map((t) => t.text),
    ['the', 'movie', 'was', 'great', 'and', 'the'],
  );
  assert.equal(short.truncated, undefined);
  await assert.rejects(
    OnnxFeaturizer.create({ dir: TINY_BERT_DIR, cacheDir: false, maxLength: 1000 }),
    /exceeds the model's limit of 64/,
  );
  // scoreDataset reports it per row and in the summary.
  const many = join(dir, 'long-many.jsonl');
  const lines = Array.from({ length: 20 }, (_, i) =>
    JSON.stringify({
      id: `m${i}`,
      label: i % 2 ? 'a' : 'b',
      text: i % 4 === 0 ? `${text} ${i}` : `short ${i}`,
    }),
  );
  writeFileSync(many, `${lines.join('\n')}\n`);
  const res = await scoreDataset(many, {
    featurizer: { featurizer: `onnx:${TINY_BERT_DIR}`, onnxMaxLength: 8, cacheDir: false },
    attribution: { top: 20 },
  });
  assert.equal(res.summary.counts.truncated, 5);
  const r0 = res.rows[0];
  assert.ok(r0.truncated?.length);
  // No attributed token lies in the truncated part.
  for (const t of r0.tokens ?? []) assert.ok(t.end <= r0.truncated![0].start);
});

test('onnx: the disk cache serves a second featurizer without a session run; torn files are misses', async () => {
  const cacheDir = mkdtempSync(join(tmpdir(), 'memscore-onnx-cache-'));
  const rows = await rowsOf(writeJsonl('cache.jsonl', 30));
  const a = await OnnxFeaturizer.create({ dir: TINY_BERT_DIR, cacheDir });
  const fa = await a.featurize(rows, { baseline: true });
  const ca = a.report().counters;
  assert.equal(ca.rowsEncoded, 30);
  assert.equal(ca.baselineRowsEncoded, 30);
  assert.ok(ca.sessionRuns > 0);
  assert.equal(ca.cacheWrites, 60);
  const b = await OnnxFeaturizer.create({ dir: TINY_BERT_DIR, cacheDir });
  const fb = await b.featurize(rows, { baseline: true });
  const cb = b.report().counters;
  assert.equal(cb.sessionRuns, 0, 'no session run on a warm cache');
  assert.equal(cb.rowsEncoded, 0);
  assert.equal(cb.cacheHits, 60);
  for (let i = 0; i < rows.length; i++) {
    assert.deepEqual(fb[i].E, fa[i].E);
    assert.deepEqual(fb[i].Ebase, fa[i].Ebase);
    // The stored tokenization gives the same tokens and ranges as tokenizing again.
    assert.deepEqual(fb[i].tokens, fa[i].tokens);
  }
  // A different layer or max length is a different model key.
  const c = await OnnxFeaturizer.create({ dir: TINY_BERT_DIR, cacheDir, layer: '1' });
  await c.featurize(rows.slice(0, 2), { baseline: false });
  assert.equal(c.report().counters.rowsEncoded, 2);
  // No temporary files are left; a torn or foreign file is a miss, never an error.
  const files = readdirSync(cacheDir, { recursive: true }).map(String);
  assert.ok(!files.some((p) => p.endsWith('.tmp')));
  const cache = new FeatureCache(cacheDir, 'k'.repeat(64));
  cache.put('ab'.repeat(32), 'e', 2, 3, Float32Array.from([1, 2, 3, 4, 5, 6]));
  assert.deepEqual(Array.from(cache.get('ab'.repeat(32), 'e', 2, 3)!.data), [1, 2, 3, 4, 5, 6]);
  assert.equal(cache.get('ab'.repeat(32), 'e', 3, 3), undefined, 'shape mismatch is a miss');
  const torn = join(cache.root, 'ab', `${'ab'.repeat(32)}.e`);
  writeFileSync(torn, readFileSync(torn).subarray(0, 20));
  assert.equal(cache.get('ab'.repeat(32), 'e'), undefined);
});

test('onnx: a CUDA request falls back to the CPU explicitly, with the error in the message', async () => {
  const model = join(TINY_BERT_DIR, 'model.onnx');
  const s = await createSession(model, { backend: 'cuda' });
  if (s.provider === 'cuda') {
    console.log('onnx: the CUDA execution provider works here; fallback not exercised');
    return;
  }
  assert.equal(s.provider, 'cpu');
  assert.match(s.fallback ?? '', /CUDA execution provider failed \(.+\); running the encoder on the CPU/);
  const cpu = await createSession(model, { backend: 'cpu' });
  assert.equal(cpu.provider, 'cpu');
  assert.equal(cpu.fallback, undefined);
  const f = await OnnxFeaturizer.create({ dir: TINY_BERT_DIR, cacheDir: false, backend: 'cuda', threads: 1 });
  assert.match(f.report().backend, /^onnxruntime-node [\d.]+ cpu \(1 threads\)$/);
  assert.ok(f.report().notes.some((n) => /CUDA execution provider failed/.test(n)));
});

test('onnx: attributions with the [MASK] baseline are complete and equal brute-force integrated gradients', async () => {
  const f = await OnnxFeaturizer.create({ dir: TINY_BERT_DIR, cacheDir: false });
  const rows = await rowsOf(writeJsonl('ig.jsonl', 36));
  const { X } = await poolAll(f, rows, () => undefined, undefined, 'featurizing');
  const data = { X, y: Int32Array.from(rows, (r) => (r.label === 'neg' ? 0 : 1)), n: rows.length };
  const D = f.dim;
  const head = new LinearHead(2, D, 1e-2);
  const { gradNorm } = linearHeadKind.train(head, data, { tolerance: 1e-12 });
  assert.ok(gradNorm < 1e-9);
  const solver = buildSolver('exact', head, data);
  const scores = await scoreRows(head, data, solver);
  for (const i of [0, 7]) {
    const [feats] = (await f.featurize([rows[i]], { baseline: true })) as TokenFeatures[];
    const T = feats.tokens.length;
    const y = data.y[i];
    const h = poolTokens(feats, 'mean');
    const h0 = poolTokens(feats, 'mean', true);
    assert.ok(maxAbs(h0) > 0.05, 'the [MASK] baseline is not the zero vector');
    const s = influenceDirection(head, solver, h, y);
    // The attribution target: score(z) - score_z(z'), where score(z) is the reported memorization score.
    const res = attributeRow(head, solver, feats, 'mean', y, 50);
    const scoreZ = -influenceAt(head, s, h, y);
    record(
      'score(z) from the attribution path vs scoreRows (rel)',
      Math.abs(scoreZ - scores.score[i]) / Math.abs(scores.score[i]),
    );
    assert.ok(Math.abs(scoreZ - scores.score[i]) <= 1e-8 * Math.max(1, Math.abs(scores.score[i])));
    const target = scoreZ - -influenceAt(head, s, h0, y);
    assert.ok(Math.abs(res.target - target) <= 1e-12 * Math.max(1, Math.abs(target)));
    const sum = res.a.reduce((u, v) => u + v, 0);
    record('completeness gap, [MASK] baseline, 50 steps (rel)', res.gap);
    assert.ok(Math.abs(sum - res.target) / Math.abs(res.target) < 1e-2, `gap ${res.gap}`);
    // Brute force: central finite differences w.r.t. every token vector, 400 midpoint steps from E' to E.
    const fE = (E: Float64Array) => influenceAt(head, s, poolTokens({ ...feats, E }, 'mean'), y);
    const steps = 400;
    const brute = new Float64Array(T);
    const eps = 1e-5;
    for (let k = 0; k < steps; k++) {
      const alpha = (k + 0.5) / steps;
      const Ek = feats.E.map((e, j) => feats.Ebase[j] + alpha * (e - feats.Ebase[j]));
      for (let t = 0; t < T; t++)
        for (let l = 0; l < D; l++) {
          const j = t * D + l;
          const plus = Float64Array.from(Ek);
          const minus = Float64Array.from(Ek);
          plus[j] += eps;
          minus[j] -= eps;
          const g = (fE(plus) - fE(minus)) / (2 * eps);
          brute[t] -= (g * (feats.E[j] - feats.Ebase[j])) / steps;
        }
    }
    const fine = attributeRow(head, solver, feats, 'mean', y, 400, undefined, s);
    const err = relErr(fine.a, brute);
    record('attribution vs brute-force IG, [MASK] baseline (rel)', err);
    assert.ok(err < 1e-5, `relative error ${err}`);
  }
});

function memscore(...args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
}

test('onnx: memscore score --featurizer onnx:DIR end to end; a second run encodes 0 rows; experiments reuse the cache', async () => {
  assert.ok(existsSync(cli), 'npm run compile first');
  const file = writeJsonl('e2e.jsonl', 48);
  const cacheDir = mkdtempSync(join(tmpdir(), 'memscore-onnx-e2e-'));
  const run = (tag: string) => {
    const out = join(dir, `e2e-${tag}.jsonl`);
    const summary = join(dir, `e2e-${tag}.json`);
    const r = memscore(
      'score',
      file,
      '--featurizer',
      `onnx:${TINY_BERT_DIR}`,
      '--cache-dir',
      cacheDir,
      '--attribute',
      '10',
      '--out',
      out,
      '--summary',
      summary,
      '--onnx-threads',
      '1',
      '--backend',
      'cpu',
    );
    assert.equal(r.status, 0, r.stderr);
    return {
      stdout: r.stdout,
      rows: readFileSync(out, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
      summary: JSON.parse(readFileSync(summary, 'utf8')),
    };
  };
  const first = run('1');
  const s = first.summary;
  assert.match(s.featurizer, /^onnx:.*tiny-bert \(output last_hidden_state, max length 64, 32-d\)$/);
  assert.match(s.backends.featurizing, /^onnxruntime-node [\d.]+ cpu/);
  assert.equal(s.backends.training, denseBackend());
  assert.equal(s.backends.hessian, denseBackend());
  assert.equal(s.backends.scoring, denseBackend());
  assert.match(
    first.stdout,
    /backend: featurizing onnxruntime-node [\d.]+ cpu \(1 threads\); training\/hessian\/scoring\/attributing (onnxruntime|js)-float64/,
  );
  assert.equal(s.featurizerCounters.rowsEncoded, 48);
  assert.equal(s.featurizerCounters.baselineRowsEncoded, 10);
  assert.ok(s.completeness.maxGap < 1e-2, `completeness gap ${s.completeness.maxGap}`);
  record('e2e completeness max gap (rel)', s.completeness.maxGap);
  const attributed = first.rows.filter((r) => r.tokens);
  assert.equal(attributed.length, 10);
  const lines = readFileSync(file, 'utf8').split('\n');
  for (const r of attributed)
    for (const t of r.tokens) assert.equal(lines[t.line - 1].slice(t.start, t.end), t.text);
  assert.ok(first.rows.every((r) => Number.isFinite(r.score)));

  const second = run('2');
  const c2 = second.summary.featurizerCounters;
  assert.equal(c2.rowsEncoded, 0, 'a re-score encodes no row');
  assert.equal(c2.baselineRowsEncoded, 0);
  assert.equal(c2.sessionRuns, 0);
  assert.deepEqual(
    second.rows.map((r) => r.score),
    first.rows.map((r) => r.score),
  );

  // The experiments read the same cache: featurizing (prepare) and the reduction experiment's [MASK] baselines of
  // the top rows (attributed by the score run) need no session run.
  const prep = await prepare(file, {
    data: { label: 'label' },
    featurizer: { featurizer: `onnx:${TINY_BERT_DIR}`, cacheDir, backend: 'cpu' },
  });
  assert.equal(prep.data.n, 48);
  const red = await reductionExperiment(prep, { top: 0.1, ks: [0.1, 0.5] });
  assert.ok(red.rows > 0);
  const counters = prep.featurizer.report!().counters;
  assert.equal(counters.sessionRuns, 0, JSON.stringify(counters));
  const ev = memscore(
    'eval',
    'stability',
    file,
    '--featurizer',
    `onnx:${TINY_BERT_DIR}`,
    '--cache-dir',
    cacheDir,
    '--seeds',
    '2',
    '--quiet',
  );
  assert.equal(ev.status, 0, ev.stderr);
});

test('onnx: the packaged layout (no node_modules) scores with words and says clearly that onnxruntime-node is missing', () => {
  assert.ok(existsSync(cli), 'npm run compile first');
  const pkg = mkdtempSync(join(tmpdir(), 'memscore-vsix-'));
  mkdirSync(join(pkg, 'dist'));
  cpSync(cli, join(pkg, 'dist', 'cli.js'));
  cpSync(join(root, 'media'), join(pkg, 'media'), { recursive: true });
  cpSync(join(root, 'package.json'), join(pkg, 'package.json'));
  const file = writeJsonl('vsix.jsonl', 24);
  const env = { ...process.env, MEMSCORE_ONNXRUNTIME: '', NODE_PATH: '' };
  const words = spawnSync(
    process.execPath,
    [join(pkg, 'dist', 'cli.js'), 'score', file, '--attribute', '2'],
    {
      encoding: 'utf8',
      env,
    },
  );
  assert.equal(words.status, 0, words.stderr);
  const onnx = spawnSync(
    process.execPath,
    [join(pkg, 'dist', 'cli.js'), 'score', file, '--featurizer', `onnx:${TINY_BERT_DIR}`, '--no-cache'],
    { encoding: 'utf8', env },
  );
  assert.equal(onnx.status, 1, onnx.stderr);
  assert.match(onnx.stderr, /needs the native package onnxruntime-node, which could not be loaded/);
});

const hasUnzip = spawnSync('unzip', ['-v'], { encoding: 'utf8' }).status === 0;

test(
  'onnx: the platform .vsix (npm run package) carries onnxruntime-node; a broken native module leaves words working',
  { skip: hasUnzip ? false : 'unzip is not installed' },
  () => {
    assert.ok(existsSync(cli), 'npm run compile first');
    const tmp = mkdtempSync(join(tmpdir(), 'memscore-vsix-ort-'));
    try {
      const vsix = join(tmp, 'ext.vsix');
      const pack = spawnSync(process.execPath, [join(root, 'scripts/package.mjs'), '--out', vsix], {
        encoding: 'utf8',
      });
      assert.equal(pack.status, 0, pack.stderr);
      const unzip = spawnSync('unzip', ['-q', vsix, '-d', join(tmp, 'x')], { encoding: 'utf8' });
      assert.equal(unzip.status, 0, unzip.stderr);
      const ext = join(tmp, 'x', 'extension');
      const ortDir = join(ext, 'dist', 'node_modules', 'onnxruntime-node');
      const binDir = join(ortDir, 'bin', 'napi-v6');
      // This platform's binaries only.
      assert.deepEqual(readdirSync(binDir), [process.platform]);
      assert.deepEqual(readdirSync(join(binDir, process.platform)), [process.arch]);
      // The unpacked extension, far from any node_modules: the CLI bundle next to the worker's scores with the ONNX
      // featurizer on the staged runtime alone.
      const env = { ...process.env, MEMSCORE_ONNXRUNTIME: '', NODE_PATH: '' };
      const file = writeJsonl('vsix-ort.jsonl', 24);
      const summary = join(tmp, 'summary.json');
      const scoreArgs = [join(ext, 'dist', 'cli.js'), 'score', file, '--attribute', '2'];
      const onnx = spawnSync(
        process.execPath,
        [...scoreArgs, '--featurizer', `onnx:${TINY_BERT_DIR}`, '--no-cache', '--summary', summary],
        { encoding: 'utf8', env },
      );
      assert.equal(onnx.status, 0, onnx.stderr);
      const s = JSON.parse(readFileSync(summary, 'utf8'));
      assert.match(s.backends.featurizing, /^onnxruntime-node [\d.]+ (cpu|cuda)/);
      // A native module that cannot be loaded (wrong platform, missing system library): words still work, the ONNX
      // featurizer says why.
      writeFileSync(join(binDir, process.platform, process.arch, 'onnxruntime_binding.node'), 'not a binary');
      const words = spawnSync(process.execPath, scoreArgs, { encoding: 'utf8', env });
      assert.equal(words.status, 0, words.stderr);
      const broken = spawnSync(
        process.execPath,
        [...scoreArgs, '--featurizer', `onnx:${TINY_BERT_DIR}`, '--no-cache'],
        { encoding: 'utf8', env },
      );
      assert.equal(broken.status, 1, broken.stderr);
      assert.match(broken.stderr, /needs the native package onnxruntime-node, which could not be loaded/);
      assert.match(
        broken.stderr,
        new RegExp(`package for this platform \\(${process.platform}-${process.arch}`),
      );
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  },
);

test('onnx: the worker takes the backend setting and cache folder from the extension, and reports each stage', async () => {
  assert.ok(existsSync(workerJs), 'npm run compile first');
  const cacheDir = mkdtempSync(join(tmpdir(), 'memscore-onnx-worker-'));
  const env = { ...process.env, MEMORIZATION_BACKEND: 'cuda', MEMORIZATION_CACHE_DIR: cacheDir };
  await withWorker(async ({ connection }) => {
    const info = await connection.sendRequest(InfoRequest, undefined);
    assert.equal(info.backendSetting, 'cuda');
    assert.match(info.available?.onnxruntime ?? '', /^onnxruntime-node [\d.]+ \(cpu/);
    assert.match(info.available?.tfjs ?? '', /tfjs-node not installed|available, not used/);
    assert.equal(info.lastRun, undefined);
    const file = writeJsonl('worker.jsonl', 24);
    const res = await connection.sendRequest(ScoreRequest, {
      jobId: 'j1',
      file,
      options: { featurizer: { featurizer: `onnx:${TINY_BERT_DIR}` }, attribution: { top: 3 } },
    });
    const s = res.summary;
    assert.match(s.backends?.featurizing ?? '', /^onnxruntime-node [\d.]+ (cpu|cuda)/);
    assert.equal(s.backends?.training, denseBackend());
    if (/ cpu/.test(s.backends!.featurizing))
      assert.ok(
        s.backendNotes?.some((n) => /CUDA execution provider failed/.test(n)),
        JSON.stringify(s.backendNotes),
      );
    assert.ok(s.backendNotes?.some((n) => /has no GPU path/.test(n)));
    assert.ok(
      s.backendNotes?.some((n) => n.includes(cacheDir)),
      'the cache lives in the folder the extension gave',
    );
    assert.equal(s.featurizerCounters?.rowsEncoded, 24);
    const again = await connection.sendRequest(ScoreRequest, {
      jobId: 'j2',
      file,
      options: { featurizer: { featurizer: `onnx:${TINY_BERT_DIR}` }, attribution: { top: 3 } },
    });
    assert.equal(
      again.summary.featurizerCounters?.sessionRuns,
      0,
      'the same session and cache serve a re-score',
    );
    const info2 = await connection.sendRequest(InfoRequest, undefined);
    assert.deepEqual(info2.lastRun, again.summary.backends);
    assert.equal(
      shortBackend(again.summary.backends),
      /cuda/.test(s.backends!.featurizing) ? 'onnx cuda' : 'onnx cpu',
    );
    const tip = backendTooltip(again.summary.backends, again.summary.backendNotes, info2, 'cuda');
    assert.match(tip, /^Featurizing: onnxruntime-node/);
    assert.match(tip, /Training, Hessian, scoring, attributions: (onnxruntime|js)-float64/);
  }, env);
});

test('onnx: extension helpers: featurizer setting and status-bar wording', () => {
  const featurizerOption = (v: string, ws: string | undefined, home: string) =>
    optionsFromSettings(
      (name) => (name === 'featurizer' ? v : undefined),
      (p) => settingPath(p, ws, home),
    ).featurizer?.featurizer;
  assert.equal(featurizerOption('auto', '/ws', '/home/u'), undefined);
  assert.equal(featurizerOption('words', '/ws', '/home/u'), 'words');
  assert.equal(featurizerOption('onnx:models/distil', '/ws', '/home/u'), 'onnx:/ws/models/distil');
  assert.equal(featurizerOption('onnx:~/m', '/ws', '/home/u'), 'onnx:/home/u/m');
  assert.equal(featurizerOption('onnx:/abs/m', undefined, '/home/u'), 'onnx:/abs/m');
  const js = {
    featurizing: 'js',
    training: 'js-float64',
    hessian: 'js-float64',
    scoring: 'js-float64',
    attributing: 'js-float64',
  };
  assert.equal(shortBackend(js), 'js');
  assert.equal(shortBackend(undefined), undefined);
  assert.match(
    backendTooltip(undefined, undefined, undefined, 'auto'),
    /^Backend: auto\nBackend setting: auto$/,
  );
});

// The tiny BERT ONNX fixture (scripts/make-tiny-bert.mjs) against an independent float64 forward pass
// (tinyBertReference.ts): every output, several padded batches, onnxruntime-node on the CPU.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { TINY_BERT_DIR, erf, loadTinyBertWeights, tinyBertForward } from './tinyBertReference';
import { rng } from './helpers';

const root = path.resolve(__dirname, '../..');
const TOL = 1e-4;

test('tiny-bert fixture: erf of the reference', () => {
  // Values of C's erf (Python math.erf).
  const cases: Array<[number, number]> = [
    [0, 0],
    [0.5, 0.5204998778130465],
    [1, 0.8427007929497149],
    [2, 0.9953222650189527],
    [2.9, 0.9999589021219005],
    [3.1, 0.9999883513426328],
    [3, 0.9999779095030014],
    [3.5, 0.9999992569016276],
    [4, 0.9999999845827421],
    [5, 0.9999999999984626],
  ];
  for (const [x, want] of cases) {
    assert.ok(Math.abs(erf(x) - want) < 1e-14, `erf(${x}) = ${erf(x)}, want ${want}`);
    assert.ok(Math.abs(erf(-x) + want) < 1e-14);
  }
});

test('tiny-bert fixture: files are consistent and regenerate byte-identically', () => {
  const out = execFileSync(process.execPath, [path.join(root, 'scripts', 'make-tiny-bert.mjs'), '--check'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  assert.equal(out, '');
  const config = JSON.parse(readFileSync(path.join(TINY_BERT_DIR, 'config.json'), 'utf8'));
  const tok = JSON.parse(readFileSync(path.join(TINY_BERT_DIR, 'tokenizer.json'), 'utf8'));
  const w = loadTinyBertWeights();
  assert.equal(config.model_type, 'bert');
  assert.equal(Object.keys(tok.model.vocab).length, config.vocab_size);
  assert.equal(w.config.vocabSize, config.vocab_size);
  assert.equal(w.config.hidden, config.hidden_size);
  assert.equal(w.config.layers, config.num_hidden_layers);
  assert.deepEqual(
    ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'].map((t) => tok.model.vocab[t]),
    [0, 1, 2, 3, 4],
  );
});

test('tiny-bert fixture: every ONNX output matches the float64 reference on padded batches', async () => {
  const w = loadTinyBertWeights();
  const { hidden: H, layers: L, vocabSize: V, maxPosition: P } = w.config;
  const session = await ort.InferenceSession.create(path.join(TINY_BERT_DIR, 'model.onnx'), {
    executionProviders: ['cpu'],
  });
  const expectedOutputs = [
    'last_hidden_state',
    ...Array.from({ length: L + 1 }, (_, i) => `hidden_states.${i}`),
  ];
  assert.deepEqual([...session.inputNames].sort(), ['attention_mask', 'input_ids', 'token_type_ids']);
  assert.deepEqual([...session.outputNames].sort(), [...expectedOutputs].sort());
  assert.deepEqual(w.outputs, expectedOutputs);

  const r = rng(7);
  // [batch, lengths of the rows (padded to the longest)], including a single row, length-1 rows and the maximum.
  const batches: number[][] = [[5], [7, 3, 1], [12, 12], [20, 9, 2, 15], [P, 31], [1, 1]];
  let worst = 0;
  for (const lengths of batches) {
    const B = lengths.length;
    const S = Math.max(...lengths);
    const ids: number[][] = [];
    const mask: number[][] = [];
    const types: number[][] = [];
    for (const len of lengths) {
      const row = Array.from({ length: S }, (_, s) =>
        s === 0 ? 2 : s === len - 1 && len > 1 ? 3 : s < len ? 5 + Math.floor(r() * (V - 5)) : 0,
      );
      ids.push(row);
      mask.push(row.map((_, s) => (s < len ? 1 : 0)));
      // Second segment on some rows, to exercise token_type_embeddings.
      types.push(row.map((_, s) => (B > 2 && s < len && s >= len / 2 ? 1 : 0)));
    }
    const i64 = (m: number[][]) =>
      new ort.Tensor('int64', BigInt64Array.from(m.flat().map((x) => BigInt(x))), [B, S]);
    const out = await session.run({
      input_ids: i64(ids),
      attention_mask: i64(mask),
      token_type_ids: i64(types),
    });
    const ref = tinyBertForward(w, ids, mask, types);
    for (const name of expectedOutputs) {
      const t = out[name];
      assert.deepEqual(t.dims, [B, S, H], name);
      const got = t.data as Float32Array;
      const want = name === 'last_hidden_state' ? ref[L] : ref[Number(name.split('.')[1])];
      let err = 0;
      for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(got[i] - want[i]));
      assert.ok(err < TOL, `${name}, batch [${lengths}]: max |error| ${err}`);
      worst = Math.max(worst, err);
    }
    // last_hidden_state is the last of the hidden states, bit for bit.
    assert.deepEqual(out.last_hidden_state.data, out[`hidden_states.${L}`].data);
    // Padding does not change the unpadded rows: row b alone equals row b in the batch (up to float32 noise).
    const b = lengths.indexOf(Math.min(...lengths));
    const len = lengths[b];
    const alone = tinyBertForward(
      w,
      [ids[b].slice(0, len)],
      [mask[b].slice(0, len)],
      [types[b].slice(0, len)],
    );
    let padErr = 0;
    for (let i = 0; i < len * H; i++)
      padErr = Math.max(padErr, Math.abs(ref[L][b * S * H + i] - alone[L][i]));
    assert.ok(padErr < 1e-12, `padding changed an unpadded row by ${padErr}`);
  }
  console.log(
    `tiny-bert ONNX vs float64 reference: largest |error| ${worst.toExponential(3)} (tolerance ${TOL})`,
  );
  await session.release();
});

// scoreRows scores each distinct (x, y) row once and copies the scores to its copies (mergeIdenticalRows). Checked
// against scoring every row on its own (a one-row call never merges): the largest difference is printed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exactSolverKind } from '../../src/engine/influence/exact';
import { scoreRows } from '../../src/engine/influence/scores';
import { mergeIdenticalRows } from '../../src/engine/model/identicalRows';
import { LinearHead, linearHeadKind } from '../../src/engine/model/linearHead';
import type { HeadData } from '../../src/engine/model/head';
import { rng } from './helpers';

test('scores of repeated rows, scored once per distinct (x, y), equal the scores of each row alone', async () => {
  const C = 3;
  const D = 4;
  const r = rng(7);
  const distinct = 25;
  const protoX = Float64Array.from({ length: distinct * D }, () => r() * 2 - 1);
  const n = 400;
  const X = new Float64Array(n * D);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const p = Math.floor(r() * distinct);
    X.set(protoX.subarray(p * D, (p + 1) * D), i * D);
    // The same x under two labels: two distinct (x, y) rows.
    y[i] = (p + (r() < 0.1 ? 1 : 0)) % C;
  }
  const data: HeadData = { X, y, n };
  const merged = mergeIdenticalRows(data, D);
  assert.ok(merged && merged.n < distinct * 2, 'the rows repeat: they are merged');
  const head = new LinearHead(C, D, 1e-2);
  linearHeadKind.train(head, data, {});
  const solver = exactSolverKind.build(head, data);
  const all = await scoreRows(head, data, solver);
  let worst = 0;
  for (let i = 0; i < n; i++) {
    const one = await scoreRows(head, { X: X.slice(i * D, (i + 1) * D), y: y.slice(i, i + 1), n: 1 }, solver);
    assert.equal(all.pred[i], one.pred[0]);
    for (const k of ['prob', 'loss', 'score', 'selfInfluence'] as const) {
      const e = Math.abs(all[k][i] - one[k][0]) / Math.max(Math.abs(one[k][0]), 1e-300);
      worst = Math.max(worst, e);
      assert.ok(e <= 1e-12, `row ${i} ${k}: ${all[k][i]} vs ${one[k][0]}`);
    }
  }
  console.log(`largest relative difference, merged vs one row at a time: ${worst.toExponential(2)}`);
});

// The linear head runs its heavy passes once per distinct (x, y) row, weighted by the copies (mergeIdenticalRows).
// Checked here against the same kernels on every row unmerged: objective, gradient, curvature products, dense
// Hessian and the preconditioner's input, and a full training; the largest relative differences are printed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { softmaxDenseHessian, softmaxHvp, softmaxObjective } from '../../src/engine/linalg/softmaxLinear';
import { mergeIdenticalRows } from '../../src/engine/model/identicalRows';
import { LinearHead, linearHeadKind } from '../../src/engine/model/linearHead';
import type { HeadData } from '../../src/engine/model/head';
import { rng } from './helpers';

const errors: Record<string, number> = {};
const relErr = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / Math.max(den, 1e-300);
};
const record = (name: string, e: number) => (errors[name] = Math.max(errors[name] ?? 0, e));
test.after(() =>
  console.log('largest relative differences, merged vs unmerged rows:', JSON.stringify(errors)),
);

/** n rows drawn from `distinct` prototypes (features and label), so most rows repeat; plus a same-x other-label row. */
function repeated(n: number, distinct: number, D: number, C: number, seed: number): HeadData {
  const r = rng(seed);
  const protoX = Float64Array.from({ length: distinct * D }, () => r() * 2 - 1);
  const protoY = Int32Array.from({ length: distinct }, () => Math.floor(r() * C));
  const X = new Float64Array(n * D);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const p = Math.floor(r() * distinct);
    X.set(protoX.subarray(p * D, (p + 1) * D), i * D);
    y[i] = i === n - 1 ? (y[0] + 1) % C : protoY[p];
    if (i === n - 1) X.set(X.subarray(0, D), i * D);
  }
  return { X, y, n };
}

test('merged identical rows: objective, gradient, curvature products and dense Hessian equal the unmerged ones', () => {
  for (const [C, D] of [
    [2, 5],
    [4, 3],
  ]) {
    const data = repeated(600, 40, D, C, 3 + C);
    const merged = mergeIdenticalRows(data, D);
    assert.ok(merged, 'the rows repeat: they are merged');
    assert.ok(merged.n <= 42 && merged.n >= 30, `distinct rows ${merged.n}`);
    let total = 0;
    for (const w of merged.w) total += w;
    assert.equal(total, data.n);
    const head = new LinearHead(C, D, 1e-3);
    const r = rng(11);
    head.theta = Float64Array.from({ length: head.size }, () => r() - 0.5);
    const plain = { classes: C, dim: D, X: data.X, y: data.y, n: data.n, l2: 1e-3 };
    const ref = softmaxObjective(plain, head.theta);
    const got = head.objective(data);
    record('objective', Math.abs(got.value - ref.value) / Math.abs(ref.value));
    record('gradient', relErr(got.grad, ref.grad));
    assert.ok(Math.abs(got.value - ref.value) <= 1e-12 * Math.abs(ref.value));
    assert.ok(relErr(got.grad, ref.grad) <= 1e-12);
    const v = Float64Array.from({ length: head.size }, () => r() - 0.5);
    const hv = head.curvatureProduct(data, v);
    const hvRef = softmaxHvp(plain, head.theta, v);
    record('hvp', relErr(hv, hvRef));
    assert.ok(relErr(hv, hvRef) <= 1e-12);
    const H = head.denseCurvature(data);
    const HRef = softmaxDenseHessian(plain, head.theta);
    record('dense Hessian', relErr(H, HRef));
    assert.ok(relErr(H, HRef) <= 1e-12);
  }
});

test('rows with equal features but another label, or too few repeats, are not merged', () => {
  const D = 3;
  const X = Float64Array.from([1, 2, 3, 1, 2, 3, 4, 5, 6]);
  assert.equal(mergeIdenticalRows({ X, y: Int32Array.from([0, 1, 0]), n: 3 }, D), undefined);
  const data = { X: new Float64Array(10 * D).fill(0.5), y: new Int32Array(10), n: 10 };
  data.y[9] = 1;
  const m = mergeIdenticalRows(data, D)!;
  assert.deepEqual([...m.y], [0, 1]);
  assert.deepEqual([...m.w], [9, 1]);
});

test('training on merged rows reaches the optimum of the unmerged objective', () => {
  const C = 3;
  const D = 4;
  const data = repeated(900, 60, D, C, 5);
  const head = new LinearHead(C, D, 1e-2);
  const report = linearHeadKind.train(head, data, {});
  assert.ok(report.gradNorm < 1e-9);
  const plain = { classes: C, dim: D, X: data.X, y: data.y, n: data.n, l2: 1e-2 };
  const g = softmaxObjective(plain, head.theta).grad;
  const gn = Math.sqrt(g.reduce((a, x) => a + x * x, 0));
  record('gradient norm at the merged optimum, unmerged', gn);
  assert.ok(gn < 1e-9, `unmerged |grad| ${gn}`);
});

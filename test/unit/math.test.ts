import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  attributeRow,
  influenceAt,
  influenceInputGradient,
  pool,
} from '../../src/engine/attribution/integratedInfluence';
import type { TokenFeatures } from '../../src/engine/featurize/featurizer';
import { scoreRows } from '../../src/engine/influence/scores';
import { ekfacSolver, exactSolver, lissaSolver } from '../../src/engine/influence/solvers';
import { symmetricEigen } from '../../src/engine/linalg/dense';
import {
  type HeadData,
  type LinearHead,
  denseHessian,
  hessianVectorProduct,
  objective,
  probabilities,
  rowLossGradient,
} from '../../src/engine/model/linearHead';
import { trainHead } from '../../src/engine/model/train';
import { spearman } from '../../src/engine/stats';
import { gaussian, maxAbs, maxAbsDiff, pearson, rng, syntheticData } from './helpers';

const errors: Record<string, number> = {};
function record(name: string, err: number): void {
  errors[name] = Math.max(errors[name] ?? 0, err);
}
test.after(() => console.log('largest errors of the math checks:', JSON.stringify(errors)));

function trained(n: number, D: number, C: number, l2 = 1e-2, seed = 1): { head: LinearHead; data: HeadData } {
  const data = syntheticData(n, D, C, seed);
  const { head, gradNorm } = trainHead(C, D, data, { l2, tolerance: 1e-12 });
  assert.ok(gradNorm < 1e-9, `trained to the optimum (|grad| = ${gradNorm})`);
  return { head, data };
}

/** Central finite differences of a scalar function of theta. */
function fdGrad(f: (t: Float64Array) => number, theta: Float64Array, eps = 1e-5): Float64Array {
  const g = new Float64Array(theta.length);
  for (let k = 0; k < theta.length; k++) {
    const tp = Float64Array.from(theta);
    const tm = Float64Array.from(theta);
    tp[k] += eps;
    tm[k] -= eps;
    g[k] = (f(tp) - f(tm)) / (2 * eps);
  }
  return g;
}

/** Gauss-Jordan inverse: independent of the Cholesky path used by the engine. */
function inverse(A: Float64Array, n: number): Float64Array {
  const a = Float64Array.from(A);
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) inv[i * n + i] = 1;
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r * n + c]) > Math.abs(a[piv * n + c])) piv = r;
    for (let k = 0; k < n; k++) {
      [a[c * n + k], a[piv * n + k]] = [a[piv * n + k], a[c * n + k]];
      [inv[c * n + k], inv[piv * n + k]] = [inv[piv * n + k], inv[c * n + k]];
    }
    const d = a[c * n + c];
    for (let k = 0; k < n; k++) {
      a[c * n + k] /= d;
      inv[c * n + k] /= d;
    }
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = a[r * n + c];
      for (let k = 0; k < n; k++) {
        a[r * n + k] -= f * a[c * n + k];
        inv[r * n + k] -= f * inv[c * n + k];
      }
    }
  }
  return inv;
}

test('objective gradient matches central finite differences', () => {
  const data = syntheticData(30, 4, 3);
  const r = rng(7);
  const head: LinearHead = {
    classes: 3,
    dim: 4,
    l2: 0.05,
    theta: Float64Array.from({ length: 15 }, () => gaussian(r)),
  };
  const g = objective(head, data).grad;
  const fd = fdGrad((t) => objective({ ...head, theta: t }, data).value, head.theta);
  const err = maxAbsDiff(g, fd) / maxAbs(fd);
  record('gradient vs FD (relative)', err);
  assert.ok(err < 1e-7, `relative error ${err}`);
});

test('dense Hessian and Hessian-vector products match finite differences of the gradient', () => {
  for (const C of [2, 3]) {
    const data = syntheticData(25, 3, C, 3);
    const r = rng(11);
    const P = C * 4;
    const head: LinearHead = {
      classes: C,
      dim: 3,
      l2: 0.02,
      theta: Float64Array.from({ length: P }, () => gaussian(r)),
    };
    const H = denseHessian(head, data);
    const eps = 1e-5;
    for (let k = 0; k < P; k++) {
      const tp = Float64Array.from(head.theta);
      const tm = Float64Array.from(head.theta);
      tp[k] += eps;
      tm[k] -= eps;
      const gp = objective({ ...head, theta: tp }, data).grad;
      const gm = objective({ ...head, theta: tm }, data).grad;
      for (let j = 0; j < P; j++) {
        const fd = (gp[j] - gm[j]) / (2 * eps);
        const err = Math.abs(H[j * P + k] - fd);
        record('Hessian vs FD (absolute)', err);
        assert.ok(err < 1e-7, `H[${j},${k}] = ${H[j * P + k]} vs ${fd}`);
      }
    }
    const v = Float64Array.from({ length: P }, () => gaussian(r));
    const hv = hessianVectorProduct(head, data, v);
    const dense = new Float64Array(P);
    for (let j = 0; j < P; j++) for (let k = 0; k < P; k++) dense[j] += H[j * P + k] * v[k];
    record('HVP vs dense Hessian', maxAbsDiff(hv, dense));
    assert.ok(maxAbsDiff(hv, dense) < 1e-12);
  }
});

test('Newton-CG reaches the optimum', () => {
  const data = syntheticData(200, 5, 3, 5);
  const res = trainHead(3, 5, data, { l2: 1e-3, tolerance: 1e-11 });
  assert.ok(res.gradNorm < 1e-11, `gradient norm ${res.gradNorm}`);
  assert.ok(res.iterations < 40);
});

test('exact scores equal an independent dense computation of -grad P^T H^-1 grad L', () => {
  const { head, data } = trained(60, 3, 3, 0.02);
  const solver = exactSolver(head, data);
  const scores = scoreRows(head, data, solver);
  const P = head.theta.length;
  // Independent: Hessian from finite differences of the gradient, Gauss-Jordan inverse, grads of P and L by FD.
  const H = new Float64Array(P * P);
  const eps = 1e-5;
  for (let k = 0; k < P; k++) {
    const tp = Float64Array.from(head.theta);
    const tm = Float64Array.from(head.theta);
    tp[k] += eps;
    tm[k] -= eps;
    const gp = objective({ ...head, theta: tp }, data).grad;
    const gm = objective({ ...head, theta: tm }, data).grad;
    for (let j = 0; j < P; j++) H[j * P + k] = (gp[j] - gm[j]) / (2 * eps);
  }
  for (let j = 0; j < P; j++)
    for (let k = 0; k < j; k++) H[j * P + k] = H[k * P + j] = (H[j * P + k] + H[k * P + j]) / 2;
  const Hinv = inverse(H, P);
  let worst = 0;
  for (let i = 0; i < data.n; i++) {
    const x = data.X.subarray(i * 3, i * 3 + 3);
    const y = data.y[i];
    const prob = (t: Float64Array) => probabilities(t, 3, 3, x)[y];
    const gP = fdGrad(prob, head.theta);
    const gL = fdGrad((t) => -Math.log(prob(t)), head.theta);
    let M = 0;
    let SI = 0;
    for (let j = 0; j < P; j++)
      for (let k = 0; k < P; k++) {
        M -= gP[j] * Hinv[j * P + k] * gL[k];
        SI += gL[j] * Hinv[j * P + k] * gL[k];
      }
    const rel = Math.max(
      Math.abs(M - scores.score[i]) / Math.abs(M),
      Math.abs(SI - scores.selfInfluence[i]) / Math.abs(SI),
    );
    worst = Math.max(worst, rel);
  }
  record('exact score vs independent dense (relative)', worst);
  assert.ok(worst < 1e-5, `relative error ${worst}`);
});

test('influence predicts leave-one-out retraining (Pearson >= 0.95)', () => {
  const n = 80;
  const { head, data } = trained(n, 3, 2, 0.01, 9);
  const scores = scoreRows(head, data, exactSolver(head, data));
  const predicted: number[] = [];
  const actual: number[] = [];
  for (let i = 0; i < n; i++) {
    const keep = Array.from({ length: n }, (_, k) => k).filter((k) => k !== i);
    const X = new Float64Array(keep.length * 3);
    keep.forEach((k, m) => X.set(data.X.subarray(k * 3, k * 3 + 3), m * 3));
    const sub: HeadData = { X, y: Int32Array.from(keep.map((k) => data.y[k])), n: n - 1 };
    const loo = trainHead(2, 3, sub, { l2: 0.01, tolerance: 1e-11, init: head.theta }).head;
    const x = data.X.subarray(i * 3, i * 3 + 3);
    // Removing z lowers P(y|x) by about M(z)/n.
    actual.push(probabilities(head.theta, 2, 3, x)[data.y[i]] - probabilities(loo.theta, 2, 3, x)[data.y[i]]);
    predicted.push(scores.score[i] / n);
  }
  const r = pearson(predicted, actual);
  record('LOO Pearson (1 - r)', 1 - r);
  assert.ok(r >= 0.95, `Pearson ${r}`);
});

test('EK-FAC ranks like exact (Spearman >= 0.99) and its solve is exact on a Kronecker-structured case', () => {
  const { head, data } = trained(400, 6, 2, 0.01, 4);
  const ex = scoreRows(head, data, exactSolver(head, data));
  const ek = scoreRows(head, data, ekfacSolver(head, data));
  const rho = spearman(ex.score, ek.score);
  record('EK-FAC Spearman vs exact (1 - rho)', 1 - rho);
  assert.ok(rho >= 0.99, `Spearman ${rho}`);
  // quadForm agrees with solve.
  const { grad, p } = rowLossGradient(head.theta, 2, 6, data.X, data.y[0], 0);
  const solver = ekfacSolver(head, data);
  const r = Float64Array.from(p, (pc, c) => pc - (c === data.y[0] ? 1 : 0));
  const xt = Float64Array.from([...data.X.subarray(0, 6), 1]);
  const q1 = solver.quadForm(grad, r, xt);
  const s = solver.solve(grad);
  const q2 = grad.reduce((acc, g, k) => acc + g * s[k], 0);
  assert.ok(Math.abs(q1 - q2) / q2 < 1e-9);
});

test('LiSSA converges to (H + damping*scale I)^-1 v, as the paper configures it', () => {
  const { head, data } = trained(100, 3, 2, 0.01, 6);
  const P = head.theta.length;
  const H = denseHessian(head, data);
  for (let k = 0; k < P; k++) H[k * P + k] += 5e-3 * 1e4;
  const Hinv = inverse(H, P);
  const v = Float64Array.from({ length: P }, (_, k) => Math.sin(k + 1));
  const want = new Float64Array(P);
  for (let j = 0; j < P; j++) for (let k = 0; k < P; k++) want[j] += Hinv[j * P + k] * v[k];
  const got = lissaSolver(head, data, { steps: 3000, seed: 1 }).solve(v);
  const rel = maxAbsDiff(got, want) / maxAbs(want);
  record('LiSSA vs damped dense (relative)', rel);
  assert.ok(rel < 0.02, `relative error ${rel}`);
});

test('symmetric eigendecomposition reconstructs the matrix', () => {
  const r = rng(3);
  const n = 7;
  const B = Float64Array.from({ length: n * n }, () => gaussian(r));
  const A = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) A[i * n + j] += B[i * n + k] * B[j * n + k];
  const { values, vectors } = symmetricEigen(A, n);
  const R = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++)
      for (let k = 0; k < n; k++) R[i * n + j] += vectors[i * n + k] * values[k] * vectors[j * n + k];
  record('eigen reconstruction', maxAbsDiff(R, A));
  assert.ok(maxAbsDiff(R, A) < 1e-9);
});

function tokenFeatures(T: number, D: number, seed: number): TokenFeatures {
  const r = rng(seed);
  return {
    tokens: Array.from({ length: T }, (_, t) => ({ text: `t${t}`, line: 1, start: t, end: t + 1, field: 0 })),
    dim: D,
    E: Float64Array.from({ length: T * D }, () => 2 * gaussian(r)),
    Ebase: new Float64Array(T * D),
  };
}

test('input gradient of s^T grad L matches finite differences', () => {
  const { head } = trained(60, 4, 3, 0.02, 8);
  const r = rng(5);
  const s = Float64Array.from({ length: head.theta.length }, () => gaussian(r));
  const h = Float64Array.from({ length: 4 }, () => gaussian(r));
  const g = influenceInputGradient(head, s, h, 1);
  const fd = fdGrad((x) => influenceAt(head, s, x, 1), h, 1e-6);
  const err = maxAbsDiff(g, fd) / maxAbs(fd);
  record('attribution input gradient vs FD (relative)', err);
  assert.ok(err < 1e-7, `relative error ${err}`);
});

test('attributions are complete and equal a brute-force integrated gradient over tokens', () => {
  const { head, data } = trained(60, 4, 3, 0.02, 8);
  const solver = exactSolver(head, data);
  for (const pooling of ['mean', 'sum'] as const) {
    const feats = tokenFeatures(6, 4, 12);
    const res = attributeRow(head, solver, feats, pooling, 2, 50);
    record(`completeness gap at 50 steps (${pooling})`, res.gap);
    assert.ok(res.gap < 1e-2, `gap ${res.gap}`);
    // Brute force: FD gradient w.r.t. each token vector, 400 midpoint steps.
    const h = pool(feats.E, 6, 4, pooling);
    const { grad, p } = rowLossGradient(head.theta, 3, 4, h, 2);
    const s = solver.solve(grad.map((x) => -p[2] * x));
    const f = (E: Float64Array) => influenceAt(head, s, pool(E, 6, 4, pooling), 2);
    const steps = 400;
    const brute = new Float64Array(6);
    for (let k = 0; k < steps; k++) {
      const alpha = (k + 0.5) / steps;
      const Ek = feats.E.map((e, i) => feats.Ebase[i] + alpha * (e - feats.Ebase[i]));
      const gE = fdGrad(f, Ek, 1e-6);
      for (let t = 0; t < 6; t++)
        for (let l = 0; l < 4; l++)
          brute[t] -= (gE[t * 4 + l] * (feats.E[t * 4 + l] - feats.Ebase[t * 4 + l])) / steps;
    }
    const fine = attributeRow(head, solver, feats, pooling, 2, 400, s);
    const err = maxAbsDiff(fine.a, brute) / maxAbs(brute);
    record(`attribution vs brute-force IG (relative, ${pooling})`, err);
    assert.ok(err < 1e-5, `relative error ${err}`);
    assert.ok(fine.gap < res.gap + 1e-12);
  }
});

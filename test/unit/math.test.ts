import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gaussLegendre } from '../../src/engine/attribution/quadrature';
import {
  attributeRow,
  influenceAt,
  influenceDirection,
  influenceDirections,
} from '../../src/engine/attribution/integratedInfluence';
import type { TokenFeatures } from '../../src/engine/featurize/featurizer';
import { poolTokens } from '../../src/engine/featurize/tokenVectors';
import { scoreRows } from '../../src/engine/influence/scores';
import type { ExactSolver } from '../../src/engine/influence/exact';
import {
  SOLVERS,
  buildSolver,
  checkFitCost,
  checkSolver,
  defaultSolver,
} from '../../src/engine/influence/solvers';
import { symmetricEigen } from '../../src/engine/linalg/dense';
import { type HeadData, flatGradient, rowGradient } from '../../src/engine/model/head';
import { LinearHead, PRECONDITION_CLASSES, linearHeadKind } from '../../src/engine/model/linearHead';
import { Standardizer } from '../../src/engine/pipeline/standardize';
import { UsageError } from '../../src/engine/types';
import { spearman } from '../../src/engine/stats';
import { gaussian, inverse, maxAbs, maxAbsDiff, pearson, rng, syntheticData } from './helpers';

const errors: Record<string, number> = {};
function record(name: string, err: number): void {
  errors[name] = Math.max(errors[name] ?? 0, err);
}
test.after(() => console.log('largest errors of the math checks:', JSON.stringify(errors)));

function trainHead(
  C: number,
  D: number,
  data: HeadData,
  opts: { l2: number; tolerance?: number; init?: Float64Array },
) {
  const head = new LinearHead(C, D, opts.l2);
  return { head, ...linearHeadKind.train(head, data, { tolerance: opts.tolerance, init: opts.init }) };
}

function trained(n: number, D: number, C: number, l2 = 1e-2, seed = 1): { head: LinearHead; data: HeadData } {
  const data = syntheticData(n, D, C, seed);
  const { head, gradNorm } = trainHead(C, D, data, { l2, tolerance: 1e-12 });
  assert.ok(gradNorm < 1e-9, `trained to the optimum (|grad| = ${gradNorm})`);
  return { head, data };
}

const exactSolver = (head: LinearHead, data: HeadData) => buildSolver('exact', head, data);
const ekfacSolver = (head: LinearHead, data: HeadData) => buildSolver('ekfac', head, data);

/** P(y|x) for one input under theta. */
function probability(head: LinearHead, theta: Float64Array, x: ArrayLike<number>, y: number): number {
  return new LinearHead(head.classes, head.dim, head.l2, theta).probabilities(x, 1)[y];
}

const withTheta = (head: LinearHead, theta: Float64Array) =>
  new LinearHead(head.classes, head.dim, head.l2, theta);

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

test('objective gradient matches central finite differences', () => {
  const data = syntheticData(30, 4, 3);
  const r = rng(7);
  const head = new LinearHead(
    3,
    4,
    0.05,
    Float64Array.from({ length: 15 }, () => gaussian(r)),
  );
  const g = head.objective(data).grad;
  const fd = fdGrad((t) => withTheta(head, t).objective(data).value, head.theta);
  const err = maxAbsDiff(g, fd) / maxAbs(fd);
  record('gradient vs FD (relative)', err);
  assert.ok(err < 1e-7, `relative error ${err}`);
});

test('dense Hessian and Hessian-vector products match finite differences of the gradient', () => {
  for (const C of [2, 3]) {
    const data = syntheticData(25, 3, C, 3);
    const r = rng(11);
    const P = C * 4;
    const head = new LinearHead(
      C,
      3,
      0.02,
      Float64Array.from({ length: P }, () => gaussian(r)),
    );
    const H = head.denseCurvature(data);
    const eps = 1e-5;
    for (let k = 0; k < P; k++) {
      const tp = Float64Array.from(head.theta);
      const tm = Float64Array.from(head.theta);
      tp[k] += eps;
      tm[k] -= eps;
      const gp = withTheta(head, tp).objective(data).grad;
      const gm = withTheta(head, tm).objective(data).grad;
      for (let j = 0; j < P; j++) {
        const fd = (gp[j] - gm[j]) / (2 * eps);
        const err = Math.abs(H[j * P + k] - fd);
        record('Hessian vs FD (absolute)', err);
        assert.ok(err < 1e-7, `H[${j},${k}] = ${H[j * P + k]} vs ${fd}`);
      }
    }
    const v = Float64Array.from({ length: P }, () => gaussian(r));
    const hv = head.curvatureProduct(data, v);
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

test('exact scores equal an independent dense computation of -grad P^T H^-1 grad L', async () => {
  const { head, data } = trained(60, 3, 3, 0.02);
  const solver = exactSolver(head, data);
  const scores = await scoreRows(head, data, solver);
  const P = head.theta.length;
  // Independent: Hessian from finite differences of the gradient, Gauss-Jordan inverse, grads of P and L by FD.
  const H = new Float64Array(P * P);
  const eps = 1e-5;
  for (let k = 0; k < P; k++) {
    const tp = Float64Array.from(head.theta);
    const tm = Float64Array.from(head.theta);
    tp[k] += eps;
    tm[k] -= eps;
    const gp = withTheta(head, tp).objective(data).grad;
    const gm = withTheta(head, tm).objective(data).grad;
    for (let j = 0; j < P; j++) H[j * P + k] = (gp[j] - gm[j]) / (2 * eps);
  }
  for (let j = 0; j < P; j++)
    for (let k = 0; k < j; k++) H[j * P + k] = H[k * P + j] = (H[j * P + k] + H[k * P + j]) / 2;
  const Hinv = inverse(H, P);
  let worst = 0;
  for (let i = 0; i < data.n; i++) {
    const x = data.X.subarray(i * 3, i * 3 + 3);
    const y = data.y[i];
    const prob = (t: Float64Array) => probability(head, t, x, y);
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

test('influence predicts leave-one-out retraining (Pearson >= 0.95)', async () => {
  const n = 80;
  const { head, data } = trained(n, 3, 2, 0.01, 9);
  const scores = await scoreRows(head, data, exactSolver(head, data));
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
    actual.push(probability(head, head.theta, x, data.y[i]) - probability(head, loo.theta, x, data.y[i]));
    predicted.push(scores.score[i] / n);
  }
  const r = pearson(predicted, actual);
  record('LOO Pearson (1 - r)', 1 - r);
  assert.ok(r >= 0.95, `Pearson ${r}`);
});

test('EK-FAC ranks like exact (Spearman >= 0.99); its self-influence agrees with its solve', async () => {
  const { head, data } = trained(400, 6, 2, 0.01, 4);
  const ex = await scoreRows(head, data, exactSolver(head, data));
  const ek = await scoreRows(head, data, ekfacSolver(head, data));
  const rho = spearman(ex.score, ek.score);
  record('EK-FAC Spearman vs exact (1 - rho)', 1 - rho);
  assert.ok(rho >= 0.99, `Spearman ${rho}`);
  // The per-row quadratic form (from the Kronecker pieces) agrees with g^T solve(g) (from the flat gradient).
  const solver = ekfacSolver(head, data);
  const batch = head.gradients(data.X, data.y, 5);
  const q1 = solver.selfInfluence(batch);
  for (let i = 0; i < 5; i++) {
    const grad = flatGradient(head, batch, i);
    const s = solver.solve(grad);
    const q2 = grad.reduce((acc, g, k) => acc + g * s[k], 0);
    record('EK-FAC quadratic form vs solve (relative)', Math.abs(q1[i] - q2) / q2);
    assert.ok(Math.abs(q1[i] - q2) / q2 < 1e-9);
  }
});

test('EK-FAC is exact when the curvature is one Kronecker product (one-hot inputs, two classes)', () => {
  // With x~ one-hot in D+1 slots... a Kronecker-structured Hessian: every row has the same x~ x~^T pattern class,
  // so S (x) A with refitted eigenvalues reproduces H exactly; solve must then match the exact solver.
  const n = 60;
  const D = 3;
  const X = new Float64Array(n * D);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) y[i] = i % 2;
  const data: HeadData = { X, y, n };
  const { head } = trainHead(2, D, data, { l2: 0.1, tolerance: 1e-12 });
  const v = Float64Array.from({ length: head.size }, (_, k) => Math.cos(k + 1));
  const a = exactSolver(head, data).solve(v);
  const b = ekfacSolver(head, data).solve(v);
  record('EK-FAC vs exact on a Kronecker case', maxAbsDiff(a, b) / maxAbs(a));
  assert.ok(maxAbsDiff(a, b) / maxAbs(a) < 1e-9);
});

test('solvers declare the capabilities they need; a head without them is a usage error naming both', () => {
  const head = new LinearHead(2, 2, 0.1);
  for (const name of Object.keys(SOLVERS) as (keyof typeof SOLVERS)[]) checkSolver(name, head);
  const bare = { kind: 'bare', capabilities: new Set<never>() };
  assert.throws(
    () => checkSolver('exact', bare),
    (e: unknown) => e instanceof UsageError && /exact.*denseCurvature.*bare/.test(e.message),
  );
  assert.throws(() => checkSolver('ekfac', bare), /kronecker/);
  assert.throws(() => checkSolver('lissa', bare), /rowCurvature/);
});

test('LiSSA converges to (H + damping*scale I)^-1 v, as the paper configures it', () => {
  const { head, data } = trained(100, 3, 2, 0.01, 6);
  const P = head.theta.length;
  const H = head.denseCurvature(data);
  for (let k = 0; k < P; k++) H[k * P + k] += 5e-3 * 1e4;
  const Hinv = inverse(H, P);
  const v = Float64Array.from({ length: P }, (_, k) => Math.sin(k + 1));
  const want = new Float64Array(P);
  for (let j = 0; j < P; j++) for (let k = 0; k < P; k++) want[j] += Hinv[j * P + k] * v[k];
  const got = buildSolver('lissa', head, data, { seed: 1 }).solve(v);
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
  const g = head.inputGradient(s, h, 1);
  const fd = fdGrad((x) => influenceAt(head, s, x, 1), h, 1e-6);
  const err = maxAbsDiff(g, fd) / maxAbs(fd);
  record('attribution input gradient vs FD (relative)', err);
  assert.ok(err < 1e-7, `relative error ${err}`);
});

test('attributions are complete and equal a brute-force integrated gradient over tokens (raw and standardized)', () => {
  const { head, data } = trained(60, 4, 3, 0.02, 8);
  const solver = exactSolver(head, data);
  const r = rng(21);
  const standardizer = new Standardizer(
    Float64Array.from({ length: 4 }, () => gaussian(r)),
    Float64Array.from({ length: 4 }, () => 0.5 + r()),
  );
  for (const transform of [undefined, standardizer])
    for (const pooling of ['mean', 'sum'] as const) {
      const what = `${pooling}, ${transform ? 'standardized' : 'raw'}`;
      const feats = tokenFeatures(6, 4, 12);
      const res = attributeRow(head, solver, feats, pooling, 2, 50, transform);
      record('completeness gap at 50 steps', res.gap);
      assert.ok(res.gap < 1e-2, `gap ${res.gap} (${what})`);
      // Brute force: FD gradient w.r.t. each token vector of the whole composition, 400 midpoint steps.
      const T = (h: Float64Array) => (transform ? transform.apply(h) : h);
      const poolE = (E: Float64Array) => T(poolTokens({ ...feats, E }, pooling));
      const s = influenceDirection(head, solver, poolE(feats.E), 2);
      const f = (E: Float64Array) => influenceAt(head, s, poolE(E), 2);
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
      const fine = attributeRow(head, solver, feats, pooling, 2, 400, transform, s);
      const err = maxAbsDiff(fine.a, brute) / maxAbs(brute);
      record('attribution vs brute-force IG (relative)', err);
      assert.ok(err < 1e-5, `relative error ${err} (${what})`);
      assert.ok(fine.gap < res.gap + 1e-12);
    }
});

test('sparse token vectors (one coordinate per token) attribute exactly as their dense form', () => {
  const { head, data } = trained(60, 4, 3, 0.02, 8);
  const solver = exactSolver(head, data);
  const r = rng(4);
  const value = Float64Array.from({ length: 4 }, () => gaussian(r));
  const base = Float64Array.from({ length: 4 }, () => gaussian(r));
  const tokens = Array.from({ length: 4 }, (_, t) => ({
    text: `c${t}`,
    line: 1,
    start: t,
    end: t + 1,
    field: t,
  }));
  const sparse: TokenFeatures = {
    tokens,
    dim: 4,
    E: value,
    Ebase: base,
    coordinates: Int32Array.from([0, 1, 2, 3]),
  };
  const E = new Float64Array(16);
  const Ebase = new Float64Array(16);
  for (let t = 0; t < 4; t++) {
    E[t * 4 + t] = value[t];
    Ebase[t * 4 + t] = base[t];
  }
  const dense: TokenFeatures = { tokens, dim: 4, E, Ebase };
  const a = attributeRow(head, solver, sparse, 'sum', 1, 50);
  const b = attributeRow(head, solver, dense, 'sum', 1, 50);
  record('sparse vs dense attribution', maxAbsDiff(a.a, b.a));
  assert.ok(maxAbsDiff(a.a, b.a) < 1e-14 && Math.abs(a.target - b.target) < 1e-14);
});

test('the standardizer: column mean 0 and std 1 on its training rows; pullback is its chain rule', () => {
  const r = rng(8);
  const n = 50;
  const D = 3;
  const X = Float64Array.from({ length: n * D }, (_, k) => (k % D) * 10 + (k % D === 2 ? 0 : gaussian(r)));
  const st = Standardizer.fit(X, n, D);
  const Y = Float64Array.from(X);
  st.applyRows(Y, n);
  for (let j = 0; j < 2; j++) {
    let m = 0;
    let v = 0;
    for (let i = 0; i < n; i++) m += Y[i * D + j] / n;
    for (let i = 0; i < n; i++) v += (Y[i * D + j] - m) ** 2 / n;
    assert.ok(Math.abs(m) < 1e-12 && Math.abs(v - 1) < 1e-12, `column ${j}: mean ${m}, var ${v}`);
  }
  // A constant column keeps scale 1 (only shifted).
  assert.equal(st.scale[2], 1);
  const w = Float64Array.from({ length: D }, () => gaussian(r));
  const h = Float64Array.from({ length: D }, () => gaussian(r));
  const fd = fdGrad((x) => st.apply(x).reduce((acc, t, j) => acc + w[j] * t, 0), h, 1e-6);
  assert.ok(maxAbsDiff(st.pullback(w), fd) < 1e-8);
});

test('row gradients: the Kronecker pieces flatten to the FD gradient of the row loss', () => {
  const { head, data } = trained(30, 3, 3, 0.05, 2);
  const x = data.X.subarray(0, 3);
  const { grad } = rowGradient(head, x, data.y[0]);
  const fd = fdGrad((t) => -Math.log(probability(head, t, x, data.y[0])), head.theta);
  record('row gradient vs FD', maxAbsDiff(grad, fd));
  assert.ok(maxAbsDiff(grad, fd) < 1e-8);
});

test('batched row gradients (GradientBatch, many classes, from an offset) flatten to each row loss FD gradient', () => {
  const { head, data } = trained(40, 4, 6, 0.05, 12);
  const from = 3;
  const m = 7;
  const batch = head.gradients(data.X, data.y, m, from);
  const probs = head.probabilities(data.X.subarray(from * 4, (from + m) * 4), m);
  record('batch probabilities vs probabilities()', maxAbsDiff(batch.prob, probs));
  assert.ok(maxAbsDiff(batch.prob, probs) < 1e-15);
  for (let k = 0; k < m; k++) {
    const i = from + k;
    const x = data.X.subarray(i * 4, i * 4 + 4);
    const fd = fdGrad((t) => -Math.log(probability(head, t, x, data.y[i])), head.theta);
    const err = maxAbsDiff(flatGradient(head, batch, k), fd);
    record('batched row gradient vs FD', err);
    assert.ok(err < 1e-8, `row ${i}: ${err}`);
  }
});

test('exact self-influence of a batch (triangular solve and explicit inverse) equals the dense inverse and g^T solve(g)', () => {
  // P = 4 x 6 = 24: 30 rows keep the triangular solve, 100 rows (more than 2 per parameter) switch to L^-1.
  for (const n of [30, 100]) {
    const { head, data } = trained(n, 5, 4, 0.03, n);
    const P = head.size;
    const Hinv = inverse(head.denseCurvature(data), P);
    const solver = exactSolver(head, data);
    const batch = head.gradients(data.X, data.y, 12, 5);
    const si = solver.selfInfluence(batch);
    for (let i = 0; i < batch.m; i++) {
      const g = flatGradient(head, batch, i);
      let ref = 0;
      for (let j = 0; j < P; j++) for (let k = 0; k < P; k++) ref += g[j] * Hinv[j * P + k] * g[k];
      const s = solver.solve(g);
      const viaSolve = g.reduce((acc, gj, j) => acc + gj * s[j], 0);
      const err = Math.max(Math.abs(si[i] - ref), Math.abs(viaSolve - ref)) / ref;
      record(`exact batched quadratic form vs dense inverse (n=${n})`, err);
      assert.ok(err < 1e-10, `n=${n}, row ${i}: ${si[i]} / ${viaSolve} vs ${ref}`);
    }
    // Many right-hand sides at once equal one solve each.
    const G = new Float64Array(batch.m * P);
    for (let i = 0; i < batch.m; i++) G.set(flatGradient(head, batch, i), i * P);
    const X = (solver as ExactSolver).solveRows(G, batch.m);
    for (let i = 0; i < batch.m; i++) {
      const x = solver.solve(G.subarray(i * P, (i + 1) * P));
      const err = maxAbsDiff(X.subarray(i * P, (i + 1) * P), x) / maxAbs(x);
      record(`exact solveRows vs solve (n=${n})`, err);
      assert.ok(err < 1e-12);
    }
    // The attribution directions of many rows (one blocked solve) equal one influenceDirection each.
    const rows = [0, 3, 7, 11];
    const hs = rows.map((i) => data.X.subarray(i * head.dim, (i + 1) * head.dim));
    const ys = rows.map((i) => data.y[i]);
    const many = influenceDirections(head, solver, hs, ys);
    rows.forEach((_, k) => {
      const one = influenceDirection(head, solver, hs[k], ys[k]);
      const err = maxAbsDiff(many[k], one) / maxAbs(one);
      record(`influenceDirections vs influenceDirection (n=${n})`, err);
      assert.ok(err < 1e-12, `row ${rows[k]}: ${err}`);
    });
  }
});

test('EK-FAC with many classes: the batched (GEMM) self-influence equals g^T solve(g) row by row', () => {
  const { head, data } = trained(300, 4, 9, 0.02, 13);
  const solver = ekfacSolver(head, data);
  const batch = head.gradients(data.X, data.y, 25, 40);
  const q1 = solver.selfInfluence(batch);
  for (let i = 0; i < batch.m; i++) {
    const grad = flatGradient(head, batch, i);
    const s = solver.solve(grad);
    const q2 = grad.reduce((acc, g, k) => acc + g * s[k], 0);
    record('EK-FAC many-class quadratic form vs solve (relative)', Math.abs(q1[i] - q2) / q2);
    assert.ok(Math.abs(q1[i] - q2) / q2 < 1e-9);
  }
});

test('curvature products reuse the probabilities of the last objective only for the same data and theta', () => {
  const { head, data } = trained(50, 3, 4, 0.05, 14);
  const r = rng(15);
  const v = Float64Array.from({ length: head.size }, () => gaussian(r));
  const fresh = (h: LinearHead, d: HeadData) =>
    withTheta(h, Float64Array.from(h.theta)).curvatureProduct(d, v);
  head.objective(data);
  const cached = head.curvatureProduct(data, v);
  record('HVP with kept probabilities vs fresh', maxAbsDiff(cached, fresh(head, data)));
  assert.ok(maxAbsDiff(cached, fresh(head, data)) < 1e-15);
  // Written into in place after the objective: the kept probabilities no longer apply.
  head.theta[1] += 0.5;
  assert.ok(maxAbsDiff(head.curvatureProduct(data, v), fresh(head, data)) < 1e-15);
  assert.ok(maxAbsDiff(head.curvatureProduct(data, v), cached) > 1e-6);
  // Another data set of the same size.
  head.objective(data);
  const other = syntheticData(50, 3, 4, 99);
  assert.ok(maxAbsDiff(head.curvatureProduct(other, v), fresh(head, other)) < 1e-15);
});

test('default solver by parameters and rows; fits estimated at an hour are refused up front, long ones warned', () => {
  const wide = new LinearHead(10, 784, 1e-3); // 7,850 parameters
  assert.equal(defaultSolver(wide), 'exact');
  assert.equal(defaultSolver(wide, 5000), 'exact');
  assert.equal(defaultSolver(wide, 100_000), 'ekfac'); // 100k x 7,850^2 multiply-adds for the dense curvature
  assert.equal(defaultSolver(new LinearHead(20, 768, 1e-3), 20_000), 'ekfac'); // 15,380 parameters
  assert.equal(checkFitCost(new LinearHead(2, 100, 1e-3), 4000, 'exact'), undefined);
  const many = new LinearHead(5000, 100, 1e-3);
  assert.match(
    checkFitCost(many, 5000, 'ekfac') ?? '',
    /5000 classes.*estimated .*min.*1\.0 rows per class: group rare classes/,
  );
  assert.throws(
    () => checkFitCost(new LinearHead(20_000, 300, 1e-3), 200_000, 'ekfac'),
    (e: unknown) =>
      e instanceof UsageError && /refusing to fit 200000 rows, 20000 classes.*estimated .* h/.test(e.message),
  );
  assert.match(
    checkFitCost(new LinearHead(20, 768, 1e-3), 20_000, 'exact') ?? '',
    /solver exact: estimated .*--solver ekfac/,
  );
});

test('Gauss-Legendre on [0, 1]: weights sum to 1 and n nodes integrate degree 2n-1 exactly', () => {
  for (const n of [1, 2, 3, 7, 50, 100]) {
    const { nodes, weights } = gaussLegendre(n);
    let worst = Math.abs(weights.reduce((a, b) => a + b, 0) - 1);
    for (let d = 0; d <= 2 * n - 1; d += Math.max(1, Math.floor(n / 5))) {
      let q = 0;
      for (let k = 0; k < n; k++) q += weights[k] * nodes[k] ** d;
      worst = Math.max(worst, Math.abs(q - 1 / (d + 1)) * (d + 1));
    }
    record('Gauss-Legendre polynomial error (relative)', worst);
    assert.ok(worst < 1e-12, `n = ${n}: ${worst}`);
    for (let k = 1; k < n; k++) assert.ok(nodes[k] > nodes[k - 1] && nodes[0] > 0 && nodes[n - 1] < 1);
  }
});

test('many classes: preconditioned Newton-CG reaches the same optimum as plain conjugate gradients', () => {
  const C = PRECONDITION_CLASSES + 6;
  const data = syntheticData(600, 4, C, 17);
  const pre = new LinearHead(C, 4, 0.01);
  assert.ok(
    pre.curvaturePreconditioner(data) === undefined,
    'no preconditioner before an objective at theta',
  );
  const a = linearHeadKind.train(pre, data, { tolerance: 1e-11 });
  const plain = new LinearHead(C, 4, 0.01);
  // The same head without its preconditioner: Newton-CG with plain CG.
  Object.defineProperty(plain, 'curvaturePreconditioner', { value: undefined });
  const b = linearHeadKind.train(plain, data, { tolerance: 1e-11 });
  assert.ok(a.gradNorm < 1e-11 && b.gradNorm < 1e-11, `${a.gradNorm}, ${b.gradNorm}`);
  const diff = maxAbsDiff(pre.theta, plain.theta) / maxAbs(plain.theta);
  record('preconditioned vs plain Newton-CG optimum (relative)', diff);
  assert.ok(diff < 1e-8, `${diff}`);
  // M^-1 is symmetric positive definite: u^T M^-1 v = v^T M^-1 u, v^T M^-1 v > 0.
  pre.objective(data);
  const M = pre.curvaturePreconditioner(data)!;
  const r = rng(18);
  const u = Float64Array.from({ length: pre.size }, () => gaussian(r));
  const v = Float64Array.from({ length: pre.size }, () => gaussian(r));
  const Mu = M(u);
  const Mv = M(v);
  const uMv = u.reduce((s, x, k) => s + x * Mv[k], 0);
  const vMu = v.reduce((s, x, k) => s + x * Mu[k], 0);
  assert.ok(Math.abs(uMv - vMu) < 1e-10 * Math.abs(uMv) && v.reduce((s, x, k) => s + x * Mv[k], 0) > 0);
});

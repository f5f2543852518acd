/**
 * The MLP head's math, checked against central finite differences and independent dense computations; each check
 * records its largest error (printed at the end).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { attributeRow, influenceDirection } from '../../src/engine/attribution/integratedInfluence';
import type { TokenFeatures } from '../../src/engine/featurize/featurizer';
import { poolTokens } from '../../src/engine/featurize/tokenVectors';
import { buildSolver } from '../../src/engine/influence/solvers';
import { symmetricEigen } from '../../src/engine/linalg/dense';
import { type HeadData, flatGradient } from '../../src/engine/model/head';
import type { HeadOptions } from '../../src/engine/model/headKind';
import { erf, activation } from '../../src/engine/model/mlpActivation';
import { HEADS } from '../../src/engine/model/heads';
import { MlpHead, mlpHeadKind } from '../../src/engine/model/mlpHead';
import { fitOf, fitWarning } from '../../src/engine/model/mlpTrain';
import { lbfgs } from '../../src/engine/model/lbfgs';
import { spearman } from '../../src/engine/stats';
import { UsageError } from '../../src/engine/types';
import { gaussian, inverse, maxAbs, maxAbsDiff, pearson, rng, syntheticData } from './helpers';

const errors: Record<string, number> = {};
function record(name: string, err: number): void {
  errors[name] = Math.max(errors[name] ?? 0, err);
}
test.after(() => console.log('largest errors of the MLP math checks:', JSON.stringify(errors)));

/** Relative error of a against b, measured against b's scale. */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return maxAbsDiff(a, b) / Math.max(maxAbs(b), 1e-12);
}

const SHAPES: { hidden: number[]; activation: 'tanh' | 'gelu'; C: number }[] = [
  { hidden: [5], activation: 'tanh', C: 3 },
  { hidden: [5], activation: 'gelu', C: 2 },
  { hidden: [4, 3], activation: 'tanh', C: 2 },
  { hidden: [4, 3], activation: 'gelu', C: 3 },
];

function makeHead(C: number, D: number, opts: Partial<HeadOptions> = {}): MlpHead {
  return mlpHeadKind.create(C, D, { l2: 1e-2, hidden: [5], seed: 3, ...opts }) as MlpHead;
}

/** A head at a generic (random, untrained) point: the checks of derivatives must not rely on stationarity. */
function generic(shape: (typeof SHAPES)[number], curvature: HeadOptions['curvature'] = 'hessian') {
  const D = 3;
  const data = syntheticData(24, D, shape.C, 5);
  const head = makeHead(shape.C, D, { hidden: shape.hidden, activation: shape.activation, curvature });
  // Larger weights than the initialization, so that every nonlinearity (phi'' too) matters.
  head.theta = head.theta.map((t, k) => 1.5 * t + 0.3 * Math.sin(k + 1));
  return { head, data, D };
}

/** Central finite differences of a scalar function of x. */
function fdGrad(f: (x: Float64Array) => number, x: ArrayLike<number>, eps = 1e-5): Float64Array {
  const g = new Float64Array(x.length);
  for (let k = 0; k < x.length; k++) {
    const a = Float64Array.from(x);
    const b = Float64Array.from(x);
    a[k] += eps;
    b[k] -= eps;
    g[k] = (f(a) - f(b)) / (2 * eps);
  }
  return g;
}

function objectiveAt(
  head: MlpHead,
  data: HeadData,
  theta: Float64Array,
): { value: number; grad: Float64Array } {
  const keep = head.theta;
  head.theta = theta;
  const r = head.objective(data);
  head.theta = keep;
  return r;
}

/** The dense Hessian of R by central differences of the analytic gradient (symmetrized). */
function fdHessian(head: MlpHead, data: HeadData, eps = 1e-5): Float64Array {
  const P = head.size;
  const H = new Float64Array(P * P);
  const th = head.theta;
  for (let k = 0; k < P; k++) {
    const a = Float64Array.from(th);
    const b = Float64Array.from(th);
    a[k] += eps;
    b[k] -= eps;
    const ga = objectiveAt(head, data, a).grad;
    const gb = objectiveAt(head, data, b).grad;
    for (let j = 0; j < P; j++) H[j * P + k] = (ga[j] - gb[j]) / (2 * eps);
  }
  for (let i = 0; i < P; i++)
    for (let j = i + 1; j < P; j++) {
      const m = 0.5 * (H[i * P + j] + H[j * P + i]);
      H[i * P + j] = H[j * P + i] = m;
    }
  return H;
}

/**
 * J^T (diag p - pp^T) J + l2 I built independently: it equals (1/n) sum_i sum_c p_c grad log p_c grad log p_c^T (the
 * Fisher; J = d logits / d theta), with grad log p by central FD of the head's probabilities.
 */
function fdGaussNewton(head: MlpHead, data: HeadData, D: number): Float64Array {
  const P = head.size;
  const C = head.classes;
  const G = new Float64Array(P * P);
  const eps = 1e-6;
  for (let i = 0; i < data.n; i++) {
    const x = data.X.subarray(i * D, (i + 1) * D);
    const logp = (t: Float64Array) => {
      const keep = head.theta;
      head.theta = t;
      const p = head.probabilities(x, 1);
      head.theta = keep;
      return p.map(Math.log);
    };
    const p = head.probabilities(x, 1);
    const J = new Float64Array(C * P);
    for (let k = 0; k < P; k++) {
      const a = Float64Array.from(head.theta);
      const b = Float64Array.from(head.theta);
      a[k] += eps;
      b[k] -= eps;
      const la = logp(a);
      const lb = logp(b);
      for (let c = 0; c < C; c++) J[c * P + k] = (la[c] - lb[c]) / (2 * eps);
    }
    for (let c = 0; c < C; c++)
      for (let a = 0; a < P; a++) {
        const w = (p[c] * J[c * P + a]) / data.n;
        for (let b = 0; b < P; b++) G[a * P + b] += w * J[c * P + b];
      }
  }
  for (let k = 0; k < P; k++) G[k * P + k] += head.l2;
  return G;
}

function matVec(A: Float64Array, n: number, v: ArrayLike<number>): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += A[i * n + j] * v[j];
    out[i] = s;
  }
  return out;
}

function randomVector(n: number, seed: number): Float64Array {
  const r = rng(seed);
  return Float64Array.from({ length: n }, () => gaussian(r));
}

/** Trains a small head to a tight stationary point. */
function trained(n: number, D: number, C: number, opts: Partial<HeadOptions> = {}, seed = 1) {
  const data = syntheticData(n, D, C, seed);
  const head = makeHead(C, D, opts);
  const report = mlpHeadKind.train(head, data, { tolerance: 1e-10 });
  assert.ok(report.gradNorm < 1e-9, `trained to a stationary point (|grad| = ${report.gradNorm})`);
  return { head, data, report };
}

test("erf matches reference values; phi' and phi'' of tanh and GELU match finite differences", () => {
  const ref: [number, number][] = [
    [0.01, 0.011283415555849618],
    [0.5, 0.5204998778130465],
    [1, 0.8427007929497149],
    [-1.5, -0.9661051464753108],
    [2, 0.9953222650189527],
    [3, 0.9999779095030014],
    [4.5, 0.9999999998033839],
  ];
  let err = 0;
  for (const [x, v] of ref) err = Math.max(err, Math.abs(erf(x) - v));
  record('erf vs reference values', err);
  assert.ok(err < 1e-15, `erf error ${err}`);
  const z = Float64Array.from({ length: 41 }, (_, k) => -5 + k * 0.25 + 0.01);
  for (const name of ['tanh', 'gelu'] as const) {
    const act = activation(name);
    const apply = (x: Float64Array) => {
      const v = new Float64Array(x.length);
      const d1 = new Float64Array(x.length);
      const d2 = new Float64Array(x.length);
      act.apply(x, v, d1, d2);
      return { v, d1, d2 };
    };
    const at = apply(z);
    const eps = 1e-5;
    const plus = apply(z.map((x) => x + eps));
    const minus = apply(z.map((x) => x - eps));
    const fd1 = plus.v.map((v, k) => (v - minus.v[k]) / (2 * eps));
    const fd2 = plus.d1.map((v, k) => (v - minus.d1[k]) / (2 * eps));
    record(`${name}' vs FD`, maxAbsDiff(at.d1, fd1));
    record(`${name}'' vs FD`, maxAbsDiff(at.d2, fd2));
    assert.ok(maxAbsDiff(at.d1, fd1) < 1e-9 && maxAbsDiff(at.d2, fd2) < 1e-9, name);
  }
  // GELU is x Phi(x): Phi(1) = 0.8413447460685429.
  const g = apply1('gelu', 1);
  assert.ok(Math.abs(g - 0.8413447460685429) < 1e-15, `gelu(1) = ${g}`);
});

function apply1(name: 'tanh' | 'gelu', x: number): number {
  const v = new Float64Array(1);
  activation(name).apply(Float64Array.of(x), v, new Float64Array(1), new Float64Array(1));
  return v[0];
}

test('objective gradient matches central finite differences (tanh and GELU, one and two hidden layers)', () => {
  for (const shape of SHAPES) {
    const { head, data } = generic(shape);
    const { grad } = head.objective(data);
    const fd = fdGrad((t) => objectiveAt(head, data, t).value, head.theta);
    const e = relErr(grad, fd);
    record('objective gradient vs FD (relative)', e);
    assert.ok(e < 1e-7, `${JSON.stringify(shape)}: ${e}`);
  }
});

test('R-operator Hessian-vector products match finite differences of the gradient', () => {
  for (const shape of SHAPES) {
    const { head, data } = generic(shape);
    for (const seed of [1, 2]) {
      const v = randomVector(head.size, seed);
      const eps = 1e-5;
      const gp = objectiveAt(
        head,
        data,
        head.theta.map((t, k) => t + eps * v[k]),
      ).grad;
      const gm = objectiveAt(
        head,
        data,
        head.theta.map((t, k) => t - eps * v[k]),
      ).grad;
      const fd = gp.map((g, k) => (g - gm[k]) / (2 * eps));
      const e = relErr(head.curvatureProduct(data, v), fd);
      record('Hessian product vs FD of gradients (relative)', e);
      assert.ok(e < 1e-7, `${JSON.stringify(shape)}: ${e}`);
    }
  }
});

test('Gauss-Newton product equals an independently built J^T (diag p - p p^T) J', () => {
  for (const shape of SHAPES) {
    const { head, data, D } = generic(shape, 'gauss-newton');
    const P = head.size;
    const G = fdGaussNewton(head, data, D);
    for (const seed of [3, 4]) {
      const v = randomVector(P, seed);
      const e = relErr(head.curvatureProduct(data, v), matVec(G, P, v));
      record('Gauss-Newton product vs independent J^T A J (relative)', e);
      assert.ok(e < 1e-7, `${JSON.stringify(shape)}: ${e}`);
    }
    // Positive semi-definite by construction: v^T G v >= l2 |v|^2.
    const v = randomVector(P, 9);
    const q = head.curvatureProduct(data, v).reduce((s, x, k) => s + x * v[k], 0);
    assert.ok(q >= head.l2 * v.reduce((s, x) => s + x * x, 0) * (1 - 1e-12));
  }
});

test('dense curvature (both kinds) equals the products, is symmetric, and the Hessian matches FD', () => {
  for (const shape of SHAPES)
    for (const curvature of ['hessian', 'gauss-newton'] as const) {
      const { head, data } = generic(shape, curvature);
      const P = head.size;
      const H = head.denseCurvature(data);
      let asym = 0;
      for (let i = 0; i < P; i++)
        for (let j = 0; j < i; j++) asym = Math.max(asym, Math.abs(H[i * P + j] - H[j * P + i]));
      assert.equal(asym, 0);
      for (const seed of [5, 6]) {
        const v = randomVector(P, seed);
        const e = relErr(matVec(H, P, v), head.curvatureProduct(data, v));
        record(`dense ${curvature} vs products (relative)`, e);
        assert.ok(e < 1e-12, `${curvature} ${JSON.stringify(shape)}: ${e}`);
      }
      if (curvature === 'hessian') {
        const e = relErr(H, fdHessian(head, data));
        record('dense Hessian vs FD Hessian (relative)', e);
        assert.ok(e < 1e-7, `${JSON.stringify(shape)}: ${e}`);
      }
    }
});

test('per-row GradientBatch (delta_l (x) act_l) equals FD of each row loss; row products add up', () => {
  for (const shape of SHAPES) {
    const { head, data, D } = generic(shape);
    const batch = head.gradients(data.X, data.y, 6, 4);
    for (let i = 0; i < 6; i++) {
      const row = 4 + i;
      const x = data.X.subarray(row * D, (row + 1) * D);
      const loss = (t: Float64Array) => {
        const keep = head.theta;
        head.theta = t;
        const p = head.probabilities(x, 1);
        head.theta = keep;
        return -Math.log(p[data.y[row]]);
      };
      const e = relErr(flatGradient(head, batch, i), fdGrad(loss, head.theta));
      record('per-row gradient vs FD (relative)', e);
      assert.ok(e < 1e-7, `${JSON.stringify(shape)} row ${row}: ${e}`);
      // The last layer's act column is the constant 1 (bias).
      const last = head.layers.length - 1;
      assert.equal(batch.layers[last].act[(i + 1) * head.layers[last].in - 1], 1);
    }
    // sum_i rowCurvatureProduct / n + l2 v = curvatureProduct, for both curvatures.
    for (const curvature of ['hessian', 'gauss-newton'] as const) {
      const h2 = new MlpHead(
        head.classes,
        head.dim,
        head.hidden,
        head.activationName,
        head.l2,
        curvature,
        0,
        head.theta,
      );
      const v = randomVector(head.size, 7);
      const sum = new Float64Array(head.size);
      for (let i = 0; i < data.n; i++) h2.rowCurvatureProduct(data, i, v, sum, 1 / data.n);
      for (let k = 0; k < sum.length; k++) sum[k] += head.l2 * v[k];
      const e = relErr(sum, h2.curvatureProduct(data, v));
      record('row products sum vs full product (relative)', e);
      assert.ok(e < 1e-12, `${curvature}: ${e}`);
    }
  }
});

test('inputGradient (the mixed derivative d/dh of s^T grad L) matches central FD', () => {
  for (const shape of SHAPES) {
    const { head, data, D } = generic(shape);
    for (const row of [0, 7]) {
      const s = randomVector(head.size, 11 + row);
      const h = data.X.subarray(row * D, (row + 1) * D);
      const y = data.y[row];
      const f = (hh: Float64Array) => {
        const g = flatGradient(head, head.gradients(hh, [y], 1), 0);
        return g.reduce((acc, x, k) => acc + x * s[k], 0);
      };
      const e = relErr(head.inputGradient(s, h, y), fdGrad(f, h));
      record('inputGradient vs FD (relative)', e);
      assert.ok(e < 1e-7, `${JSON.stringify(shape)}: ${e}`);
    }
  }
});

test('Kronecker factors and the refitted eigenvalues are exact: S is the bias block of the GN, lambda its diagonal', () => {
  for (const shape of SHAPES) {
    const { head, data } = generic(shape, 'gauss-newton');
    const P = head.size;
    const G = head.denseCurvature(data);
    for (let k = 0; k < P; k++) G[k * P + k] -= head.l2; // the data part
    const factors = head.kroneckerFactors(data);
    const bases = head.layers.map((layer, l) => ({
      QS: symmetricEigen(factors[l].S, layer.out).vectors,
      QA: symmetricEigen(factors[l].A, layer.in).vectors,
    }));
    const lambda = head.kroneckerDiagonal(data, bases);
    head.layers.forEach((layer, l) => {
      const { out: O, in: I, offset } = layer;
      // The bias input is 1 on every row, so the GN block's (bias, bias) entries are (1/n) sum_i G_i = S.
      const Sbias = new Float64Array(O * O);
      for (let a = 0; a < O; a++)
        for (let b = 0; b < O; b++)
          Sbias[a * O + b] = G[(offset + a * I + I - 1) * P + offset + b * I + I - 1];
      const eS = relErr(factors[l].S, Sbias);
      record('Kronecker S vs GN bias block (relative)', eS);
      assert.ok(eS < 1e-12, `S ${l}: ${eS}`);
      // A = (1/n) sum acts acts^T: its (bias, bias) entry is 1 and its bias column the mean act.
      assert.ok(Math.abs(factors[l].A[I * I - 1] - 1) < 1e-14);
      // lambda[k, j] = (q_k (x) a_j)^T G_block (q_k (x) a_j).
      let e = 0;
      let scale = 0;
      const u = new Float64Array(P);
      for (let k = 0; k < O; k++)
        for (let j = 0; j < I; j++) {
          u.fill(0);
          for (let a = 0; a < O; a++)
            for (let b = 0; b < I; b++)
              u[offset + a * I + b] = bases[l].QS[a * O + k] * bases[l].QA[b * I + j];
          const q = matVec(G, P, u).reduce((s, x, t) => s + x * u[t], 0);
          e = Math.max(e, Math.abs(q - lambda[l][k * I + j]));
          scale = Math.max(scale, Math.abs(q));
        }
      record('kroneckerDiagonal vs eigenbasis diagonal of the GN block (relative)', e / scale);
      assert.ok(e / scale < 1e-12, `lambda ${l}: ${e / scale}`);
    });
  }
});

test('training reaches a stationary point; the exact Hessian there is positive definite', () => {
  for (const shape of SHAPES) {
    const { head, data, report } = trained(60, 3, shape.C, {
      hidden: shape.hidden,
      activation: shape.activation,
    });
    record('trained |grad R|', report.gradNorm);
    assert.ok(!report.warnings.some((w) => w.includes('stationary')), JSON.stringify(report.warnings));
    const hess = new MlpHead(
      head.classes,
      head.dim,
      head.hidden,
      head.activationName,
      head.l2,
      'hessian',
      0,
      head.theta,
    );
    const { values } = symmetricEigen(hess.denseCurvature(data), head.size);
    assert.ok(Math.min(...values) > 0, `smallest Hessian eigenvalue ${Math.min(...values)}`);
  }
});

test('exact self-influence equals an independent dense computation (FD Hessian, Gauss-Jordan inverse)', () => {
  for (const curvature of ['hessian', 'gauss-newton'] as const) {
    const { head: h0, data } = trained(40, 3, 3, { hidden: [4], activation: 'gelu' }, 4);
    const head = new MlpHead(
      h0.classes,
      h0.dim,
      h0.hidden,
      h0.activationName,
      h0.l2,
      curvature,
      1e-3,
      h0.theta,
    );
    const P = head.size;
    const solver = buildSolver('exact', head, data);
    const batch = head.gradients(data.X, data.y, data.n);
    const got = solver.selfInfluence(batch);
    // Independent: the Hessian by FD of gradients, or the GN as sum_c p_c grad log p_c grad log p_c^T by FD; plus
    // damping; Gauss-Jordan inverse.
    const H = curvature === 'hessian' ? fdHessian(head, data) : fdGaussNewton(head, data, 3);
    for (let k = 0; k < P; k++) H[k * P + k] += head.damping;
    const Hinv = inverse(H, P);
    let e = 0;
    for (let i = 0; i < data.n; i++) {
      const g = flatGradient(head, batch, i);
      const want = matVec(Hinv, P, g).reduce((s, x, k) => s + x * g[k], 0);
      e = Math.max(e, Math.abs(got[i] - want) / Math.abs(want));
    }
    record(`exact self-influence vs Gauss-Jordan (${curvature}, relative)`, e);
    assert.ok(e < 1e-6, `${curvature}: ${e}`);
  }
});

test("EK-FAC ranks self-influence like exact (Spearman >= 0.95) with the lead's solvers", () => {
  for (const shape of [
    { hidden: [6], activation: 'tanh' as const, C: 2 },
    { hidden: [5, 4], activation: 'gelu' as const, C: 3 },
  ]) {
    const { head, data } = trained(
      120,
      4,
      shape.C,
      { hidden: shape.hidden, activation: shape.activation, curvature: 'gauss-newton' },
      6,
    );
    const batch = head.gradients(data.X, data.y, data.n);
    const exact = buildSolver('exact', head, data).selfInfluence(batch);
    const ekfac = buildSolver('ekfac', head, data).selfInfluence(batch);
    const rho = spearman(exact, ekfac);
    record('EK-FAC vs exact self-influence (1 - Spearman)', 1 - rho);
    assert.ok(rho >= 0.95, `${JSON.stringify(shape)}: Spearman ${rho}`);
  }
  const hess = makeHead(2, 3, { curvature: 'hessian' });
  assert.ok(!hess.capabilities.has('kronecker'), 'EK-FAC approximates the Gauss-Newton matrix only');
  assert.throws(() => buildSolver('ekfac', hess, syntheticData(10, 3, 2)), UsageError);
});

test('influence predicts warm-started leave-one-out retraining (Pearson >= 0.9, Spearman >= 0.95)', () => {
  // 200 rows: with fewer, removing one row moves a small MLP too far for a first-order prediction (at 60 rows a few
  // rows' actual change is 2-7x the predicted one: Pearson 0.87, Spearman still 0.99).
  const n = 200;
  const D = 3;
  const { head: h0, data } = trained(n, D, 2, { hidden: [4], l2: 1e-2 }, 9);
  // The retrained models do not depend on the curvature: one warm-started retraining per row, two predictions.
  const actual: number[] = [];
  for (let i = 0; i < n; i++) {
    const keep = Array.from({ length: n }, (_, k) => k).filter((k) => k !== i);
    const X = new Float64Array(keep.length * D);
    keep.forEach((k, m) => X.set(data.X.subarray(k * D, (k + 1) * D), m * D));
    const sub: HeadData = { X, y: Int32Array.from(keep.map((k) => data.y[k])), n: n - 1 };
    const loo = makeHead(2, D, { hidden: [4], l2: 1e-2 });
    mlpHeadKind.train(loo, sub, { init: h0.theta, tolerance: 1e-11 });
    const x = data.X.subarray(i * D, (i + 1) * D);
    actual.push(h0.probabilities(x, 1)[data.y[i]] - loo.probabilities(x, 1)[data.y[i]]);
  }
  for (const curvature of ['hessian', 'gauss-newton'] as const) {
    const head = new MlpHead(2, D, h0.hidden, h0.activationName, h0.l2, curvature, 0, h0.theta);
    const batch = head.gradients(data.X, data.y, n);
    const self = buildSolver('exact', head, data).selfInfluence(batch);
    // Removing z lowers P(y|x) by about M(z)/n = P(y|x) selfInfluence / n.
    const predicted = Array.from({ length: n }, (_, i) => (batch.prob[i * 2 + data.y[i]] * self[i]) / n);
    const r = pearson(predicted, actual);
    const rho = spearman(predicted, actual);
    record(`LOO retraining Pearson, ${curvature} (1 - r)`, 1 - r);
    record(`LOO retraining Spearman, ${curvature} (1 - rho)`, 1 - rho);
    assert.ok(r >= 0.9 && rho >= 0.95, `${curvature}: Pearson ${r}, Spearman ${rho}`);
  }
});

/** Token vectors of one row: T tokens of dimension D, zero baseline. */
function tokenFeatures(T: number, D: number, seed: number): TokenFeatures {
  const r = rng(seed);
  const E = Float64Array.from({ length: T * D }, () => 1.5 * gaussian(r));
  const tokens = Array.from({ length: T }, (_, t) => ({
    text: `t${t}`,
    line: 1,
    start: t,
    end: t + 1,
    field: 0,
  }));
  return { tokens, dim: D, E, Ebase: new Float64Array(T * D) };
}

test('attributions through the MLP at 50 steps sum to the path integral (fine Riemann sum) and are complete', () => {
  const { head, data } = trained(80, 4, 3, { hidden: [6], activation: 'gelu', curvature: 'gauss-newton' }, 2);
  const solver = buildSolver('exact', head, data);
  let worst = 0;
  for (let row = 0; row < 8; row++) {
    const feats = tokenFeatures(7, 4, 30 + row);
    const y = row % 3;
    const res = attributeRow(head, solver, feats, 'mean', y, 50);
    worst = Math.max(worst, res.gap);
    // Brute force: a 4,000-step midpoint Riemann sum of the input gradient, independently of attributeRow.
    const h = poolTokens(feats, 'mean');
    const s = influenceDirection(head, solver, h, y);
    const total = new Float64Array(4);
    const steps = 4000;
    for (let k = 0; k < steps; k++) {
      const hk = h.map((v) => ((k + 0.5) / steps) * v);
      head.inputGradient(s, hk, y).forEach((g, l) => (total[l] += g / steps));
    }
    const brute = -total.reduce((acc, g, l) => acc + g * h[l], 0);
    const sum = res.a.reduce((acc, v) => acc + v, 0);
    record('attribution sum vs brute-force Riemann sum (relative)', Math.abs(sum - brute) / Math.abs(brute));
    assert.ok(Math.abs(sum - brute) < 1e-6 * Math.max(1, Math.abs(brute)));
  }
  record('completeness gap at 50 steps', worst);
  assert.ok(worst < 0.01, `completeness gap ${worst}`);
});

test('training reports what the user must know: the fit to the data and a non-stationary stop', () => {
  // Identical inputs with different labels cap the achievable accuracy: 4 rows, two conflicting pairs -> 50%.
  const tiny: HeadData = { X: Float64Array.of(0, 0, 0, 0, 1, 1, 1, 1), y: Int32Array.of(0, 1, 0, 1), n: 4 };
  const t = makeHead(2, 2);
  assert.equal(fitOf(t, tiny).ceiling, 0.5);
  // A one-unit MLP cannot fit four concentric classes; a wide one can.
  const r = rng(4);
  const n = 200;
  const X = new Float64Array(n * 2);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 4;
    const angle = 2 * Math.PI * r();
    X[2 * i] = (c + 0.5) * Math.cos(angle);
    X[2 * i + 1] = (c + 0.5) * Math.sin(angle);
    y[i] = c;
  }
  const rings: HeadData = { X, y, n };
  const narrow = makeHead(4, 2, { hidden: [1], l2: 1e-3 });
  const rep = mlpHeadKind.train(narrow, rings);
  const warning = rep.warnings.find((w) => w.startsWith('the MLP fits only'));
  assert.ok(warning, `warnings: ${JSON.stringify(rep.warnings)}`);
  assert.equal(warning, fitWarning(narrow, rings));
  const wide = makeHead(4, 2, { hidden: [32], l2: 1e-4 });
  const wideRep = mlpHeadKind.train(wide, rings);
  assert.ok(fitOf(wide, rings).accuracy > 0.95, `wide fit ${fitOf(wide, rings).accuracy}`);
  assert.ok(
    !wideRep.warnings.some((w) => w.startsWith('the MLP fits only')),
    JSON.stringify(wideRep.warnings),
  );
  const stopped = mlpHeadKind.train(makeHead(4, 2, { hidden: [8] }), rings, { maxIterations: 3 });
  assert.ok(stopped.gradNorm > 1e-5);
  assert.ok(
    stopped.warnings.some((w) => w.includes('not at a stationary point')),
    JSON.stringify(stopped.warnings),
  );
});

test('L-BFGS minimizes the Rosenbrock function', () => {
  const res = lbfgs(
    (x) => ({
      value: 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2,
      grad: Float64Array.of(-400 * x[0] * (x[1] - x[0] ** 2) - 2 * (1 - x[0]), 200 * (x[1] - x[0] ** 2)),
    }),
    Float64Array.of(-1.2, 1),
    { tolerance: 1e-10, maxIterations: 500 },
  );
  assert.ok(
    res.gradNorm <= 1e-10 && Math.abs(res.x[0] - 1) < 1e-8 && Math.abs(res.x[1] - 1) < 1e-8,
    JSON.stringify(res),
  );
});

test('options: widths, activation, curvature, damping and l2 are checked; the seed fixes the initialization', () => {
  assert.throws(() => mlpHeadKind.create(2, 3, { l2: 1e-3, hidden: [] }), UsageError);
  assert.throws(() => mlpHeadKind.create(2, 3, { l2: 1e-3, hidden: [8, 4, 2] }), UsageError);
  assert.throws(() => mlpHeadKind.create(2, 3, { l2: 1e-3, hidden: [0] }), /--hidden/);
  assert.throws(() => mlpHeadKind.create(2, 3, { l2: 1e-3, activation: 'relu' as 'tanh' }), /--activation/);
  assert.throws(() => mlpHeadKind.create(2, 3, { l2: 0 }), /--l2/);
  assert.throws(() => mlpHeadKind.create(2, 3, { l2: 1e-3, damping: -1 }), /--damping/);
  const a = mlpHeadKind.create(2, 3, { l2: 1e-3, hidden: [4, 3], seed: 5 });
  const b = mlpHeadKind.create(2, 3, { l2: 1e-3, hidden: [4, 3], seed: 5 });
  const c = mlpHeadKind.create(2, 3, { l2: 1e-3, hidden: [4, 3], seed: 6 });
  assert.deepEqual(a.theta, b.theta);
  assert.notDeepEqual(a.theta, c.theta);
  assert.equal(a.size, 4 * 4 + 3 * 5 + 2 * 4);
  assert.deepEqual(
    a.layers.map((l) => [l.offset, l.out, l.in]),
    [
      [0, 4, 4],
      [16, 3, 5],
      [31, 2, 4],
    ],
  );
  assert.match(a.describe(), /^mlp 3-4-3-2 tanh \(39 parameters, gauss-newton curvature/);
  assert.equal(HEADS.mlp, mlpHeadKind, 'registered as --model mlp');
  assert.equal(mlpHeadKind.convex, false, 'retraining experiments must not warm-start it');
});

import assert from 'node:assert/strict';
import test from 'node:test';
import {
  backSolveRows,
  choleskyBlocked,
  cholSolveRows,
  forwardSolveRows,
  invertLowerInPlace,
  lowerInverseSolve,
  lowerQuadFormsRows,
  quadFormsRows,
} from '../../src/engine/linalg/cholesky';
import { backSolve, cholesky, cholSolve, forwardSolve, symmetricEigen } from '../../src/engine/linalg/dense';
import {
  gemm,
  jsGemmAcc,
  linalgBackend,
  matmul,
  matmulNT,
  matmulTN,
  setLinalgBackend,
  weightedGramAcc,
} from '../../src/engine/linalg/gemm';
import { onnxRuntimeStatus } from '../../src/engine/featurize/onnx/runtime';
import { gemmModel, ortGemmStatus } from '../../src/engine/linalg/ortGemm';
import {
  type SoftmaxLinearProblem,
  softmaxDenseHessian,
  softmaxHvp,
  softmaxKroneckerDiagonal,
  softmaxKroneckerFactors,
  softmaxObjective,
  softmaxProbabilities,
} from '../../src/engine/linalg/softmaxLinear';
import { gaussian, maxAbs, maxAbsDiff, rng } from './helpers';

const errors: Record<string, number> = {};
function record(name: string, err: number): void {
  errors[name] = Math.max(errors[name] ?? 0, err);
}
test.after(() => {
  setLinalgBackend('auto');
  console.log('largest errors of the linalg checks:', JSON.stringify(errors));
});

const ortAvailable = ortGemmStatus().available;

function randn(r: () => number, len: number): Float64Array {
  return Float64Array.from({ length: len }, () => gaussian(r));
}

/** The definition of C = alpha op(A) op(B) + beta C, one entry at a time. */
function naiveGemm(
  tA: boolean,
  tB: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  A: Float64Array,
  aOff: number,
  lda: number,
  B: Float64Array,
  bOff: number,
  ldb: number,
  beta: number,
  C: Float64Array,
  cOff: number,
  ldc: number,
): void {
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++)
        s +=
          (tA ? A[aOff + p * lda + i] : A[aOff + i * lda + p]) *
          (tB ? B[bOff + j * ldb + p] : B[bOff + p * ldb + j]);
      const c = cOff + i * ldc + j;
      C[c] = (beta === 0 ? 0 : beta * C[c]) + alpha * s;
    }
}

/** Random gemm problems: odd sizes, 1 x n and m x 1 edges, offsets, padded row strides, every transpose pair. */
function gemmCases(seed: number, count: number, maxDim: number, maxK: number) {
  const r = rng(seed);
  const pick = (hi: number) => {
    const u = r();
    return u < 0.15 ? 1 : 1 + Math.floor(r() * hi);
  };
  return Array.from({ length: count }, (_, t) => {
    const m = pick(maxDim);
    const n = pick(maxDim);
    const k = pick(maxK);
    const tA = t % 2 === 1;
    const tB = t % 4 >= 2;
    const aOff = Math.floor(r() * 5);
    const bOff = Math.floor(r() * 5);
    const cOff = Math.floor(r() * 5);
    const lda = (tA ? m : k) + Math.floor(r() * 3);
    const ldb = (tB ? k : n) + Math.floor(r() * 3);
    const ldc = n + Math.floor(r() * 3);
    return {
      tA,
      tB,
      m,
      n,
      k,
      alpha: [1, -0.75, 2][t % 3],
      beta: [0, 1, -0.5, 0][t % 4],
      A: randn(r, aOff + lda * (tA ? k : m)),
      aOff,
      lda,
      B: randn(r, bOff + ldb * (tB ? n : k)),
      bOff,
      ldb,
      C: randn(r, cOff + ldc * m + 2),
      cOff,
      ldc,
    };
  });
}

function checkGemm(label: string, seed: number, count: number, maxDim: number, maxK: number): void {
  for (const c of gemmCases(seed, count, maxDim, maxK)) {
    const got = Float64Array.from(c.C);
    const want = Float64Array.from(c.C);
    gemm(
      c.tA,
      c.tB,
      c.m,
      c.n,
      c.k,
      c.alpha,
      c.A,
      c.aOff,
      c.lda,
      c.B,
      c.bOff,
      c.ldb,
      c.beta,
      got,
      c.cOff,
      c.ldc,
    );
    naiveGemm(
      c.tA,
      c.tB,
      c.m,
      c.n,
      c.k,
      c.alpha,
      c.A,
      c.aOff,
      c.lda,
      c.B,
      c.bOff,
      c.ldb,
      c.beta,
      want,
      c.cOff,
      c.ldc,
    );
    // Entries outside the m x n block (offsets, padding) must be untouched: compare the whole array.
    const err = maxAbsDiff(got, want) / (1 + Math.sqrt(c.k));
    record(label, err);
    assert.ok(err < 1e-13, `${label} ${JSON.stringify({ ...c, A: 0, B: 0, C: 0 })}: ${err}`);
  }
}

test('JS gemm kernel matches the definition (shapes, offsets, strides, transposes, alpha/beta)', () => {
  setLinalgBackend('js');
  assert.equal(linalgBackend().engine, 'js');
  checkGemm('gemm js', 1, 240, 37, 300);
  setLinalgBackend('auto');
});

test('onnxruntime float64 gemm matches the definition', (t) => {
  if (!ortAvailable) {
    // Only acceptable where onnxruntime-node itself cannot be loaded; an installed package whose native binding
    // moved (a new release) must fail here rather than fall back to the slow path unnoticed.
    assert.ok(
      !onnxRuntimeStatus().available || process.env.MEMSCORE_LINALG === 'js',
      `onnxruntime-node loads but its sync Gemm does not: ${ortGemmStatus().reason}`,
    );
    return t.skip(`onnxruntime path unavailable: ${ortGemmStatus().reason}`);
  }
  setLinalgBackend('onnx');
  assert.equal(linalgBackend().engine, 'onnxruntime');
  checkGemm('gemm onnxruntime', 2, 240, 37, 300);
  setLinalgBackend('auto');
});

test('auto dispatch: large products on onnxruntime agree with the JS kernel; k = 0 and alpha = 0 scale C', () => {
  const r = rng(3);
  const m = 157;
  const k = 211;
  const n = 93;
  const A = randn(r, m * k);
  const B = randn(r, k * n);
  setLinalgBackend('auto');
  const C = matmul(A, B, m, k, n);
  const ref = new Float64Array(m * n);
  jsGemmAcc(false, false, m, n, k, 1, A, 0, k, B, 0, n, ref, 0, n);
  record('gemm auto vs js', maxAbsDiff(C, ref) / maxAbs(ref));
  assert.ok(maxAbsDiff(C, ref) < 1e-12 * maxAbs(ref));
  // A^T B and A B^T wrappers against transposed copies.
  const At = new Float64Array(k * m);
  for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) At[p * m + i] = A[i * k + p];
  const Bt = new Float64Array(n * k);
  for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) Bt[j * k + p] = B[p * n + j];
  assert.ok(maxAbsDiff(matmulTN(At, B, k, m, n), ref) < 1e-12 * maxAbs(ref));
  assert.ok(maxAbsDiff(matmulNT(A, Bt, m, k, n), ref) < 1e-12 * maxAbs(ref));
  // X X^T and X^T X with X a strided block of one array (one shared copy on the onnxruntime path).
  for (const tA of [false, true]) {
    const X = randn(r, 7 + 90 * 130);
    const got = new Float64Array(90 * 90);
    const want = new Float64Array(90 * 90);
    // X X^T: X is 90 x 120 at offset 7, row stride 130; X^T X: X is 120 x 90 at offset 7, row stride 130 (rows < 90).
    const [rows, cols] = tA ? [80, 90] : [90, 120];
    gemm(tA, !tA, 90, 90, tA ? rows : cols, 1, X, 7, 130, X, 7, 130, 0, got, 0, 90);
    naiveGemm(tA, !tA, 90, 90, tA ? rows : cols, 1, X, 7, 130, X, 7, 130, 0, want, 0, 90);
    record('gemm X X^T shared operand', maxAbsDiff(got, want) / maxAbs(want));
    assert.ok(maxAbsDiff(got, want) < 1e-13 * maxAbs(want));
  }
  const Cs = Float64Array.from([1, 2, NaN, 4]);
  gemm(false, false, 2, 2, 0, 1, A, 0, 1, B, 0, 2, 0, Cs, 0, 2);
  assert.deepEqual(Array.from(Cs), [0, 0, 0, 0]);
  const Cb = Float64Array.from([1, 2, 3, 4]);
  gemm(false, false, 2, 2, 3, 0, A, 0, 3, B, 0, 2, 2, Cb, 0, 2);
  assert.deepEqual(Array.from(Cb), [2, 4, 6, 8]);
});

test('the ONNX Gemm graph is well-formed protobuf for every transpose pair', () => {
  for (const [a, b] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ] as const) {
    const bytes = gemmModel(a, b);
    assert.ok(
      bytes.length > 60 && bytes[0] === 0x08 && bytes[1] === 8,
      'ModelProto starts with ir_version 8',
    );
  }
});

test('weighted Gram X^T diag(w) X over a row range, with and without weights', () => {
  const r = rng(4);
  const n = 1300;
  const D = 23;
  const ldx = D + 2;
  const X = randn(r, 3 + n * ldx);
  const w = Float64Array.from({ length: n }, () => r());
  for (const weights of [w, undefined]) {
    const G = new Float64Array(D * D).fill(0.5);
    weightedGramAcc(G, 0, D, X, 3, ldx, D, 100, 1250, weights, -2, 256);
    const ref = new Float64Array(D * D).fill(0.5);
    for (let i = 100; i < 1250; i++)
      for (let a = 0; a < D; a++)
        for (let b = 0; b < D; b++)
          ref[a * D + b] -= 2 * (weights ? weights[i] : 1) * X[3 + i * ldx + a] * X[3 + i * ldx + b];
    record('weighted gram', maxAbsDiff(G, ref) / maxAbs(ref));
    assert.ok(maxAbsDiff(G, ref) < 1e-12 * maxAbs(ref));
  }
});

/** A random SPD matrix B B^T / k + shift I. */
function spd(n: number, seed: number, shift = 0.1): Float64Array {
  const r = rng(seed);
  const k = n + 3;
  const B = randn(r, n * k);
  const A = matmulNT(B, B, n, k, n);
  for (let i = 0; i < n * n; i++) A[i] /= k;
  for (let i = 0; i < n; i++) A[i * n + i] += shift;
  return A;
}

/** The unblocked textbook Cholesky, the reference. */
function naiveCholesky(A: Float64Array, n: number): Float64Array {
  const L = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let d = A[j * n + j];
    for (let k = 0; k < j; k++) d -= L[j * n + k] ** 2;
    L[j * n + j] = Math.sqrt(d);
    for (let i = j + 1; i < n; i++) {
      let s = A[i * n + j];
      for (let k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
      L[i * n + j] = s / L[j * n + j];
    }
  }
  return L;
}

for (const backend of ['js', 'auto'] as const)
  test(`blocked Cholesky: L L^T = A, lower triangular, equal to the unblocked one (${backend})`, () => {
    setLinalgBackend(backend);
    // 1100: the trailing update is split too (syrk recursion above 512 rows).
    for (const n of backend === 'js' ? [1, 2, 7, 63, 64, 65, 130, 257] : [1, 65, 257, 1100]) {
      const A = spd(n, n);
      const L = choleskyBlocked(A, n);
      for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) assert.equal(L[i * n + j], 0);
      const LLt = matmulNT(L, L, n, n, n);
      const rel = maxAbsDiff(LLt, A) / maxAbs(A);
      record(`cholesky LL^T-A (${backend})`, rel);
      assert.ok(rel < 1e-14, `n=${n}: ${rel}`);
      const d = maxAbsDiff(L, naiveCholesky(A, n)) / maxAbs(L);
      record(`cholesky vs unblocked (${backend})`, d);
      assert.ok(d < 1e-12, `n=${n}: ${d}`);
      // dense.ts's cholesky is the blocked one; in place gives the same numbers.
      assert.deepEqual(cholesky(A, n), L);
      assert.deepEqual(choleskyBlocked(Float64Array.from(A), n, true), L);
    }
    setLinalgBackend('auto');
  });

test('Cholesky of a matrix that is not positive definite names the pivot', () => {
  const n = 100;
  const A = spd(n, 5);
  A[70 * n + 70] = -1;
  assert.throws(() => choleskyBlocked(A, n), /not positive definite \(pivot 70 = /);
});

for (const backend of ['js', 'auto'] as const)
  test(`triangular solves with many right-hand sides agree with one-vector substitution (${backend})`, () => {
    setLinalgBackend(backend);
    const r = rng(6);
    for (const [n, rows] of [
      [1, 3],
      [5, 1],
      [64, 10],
      [150, 33],
      [301, 7],
    ]) {
      const A = spd(n, n + 1);
      const L = cholesky(A, n);
      const G = randn(r, rows * n);
      const fw = Float64Array.from(G);
      forwardSolveRows(L, n, fw, rows);
      const bw = Float64Array.from(G);
      backSolveRows(L, n, bw, rows);
      const both = cholSolveRows(L, n, G, rows);
      const q = quadFormsRows(L, n, G, rows);
      for (let i = 0; i < rows; i++) {
        const g = G.subarray(i * n, (i + 1) * n);
        const f1 = forwardSolve(L, n, g);
        const b1 = backSolve(L, n, g);
        const s1 = cholSolve(L, n, g);
        const scale = 1 + maxAbs(s1);
        const err = Math.max(
          maxAbsDiff(fw.subarray(i * n, (i + 1) * n), f1) / (1 + maxAbs(f1)),
          maxAbsDiff(bw.subarray(i * n, (i + 1) * n), b1) / (1 + maxAbs(b1)),
          maxAbsDiff(both.subarray(i * n, (i + 1) * n), s1) / scale,
        );
        record(`row solves vs vector (${backend})`, err);
        assert.ok(err < 1e-12, `n=${n}: ${err}`);
        // A x = g for the solve itself; g^T A^-1 g for the quadratic form.
        let res = 0;
        for (let a = 0; a < n; a++) {
          let s = -g[a];
          for (let b = 0; b < n; b++) s += A[a * n + b] * s1[b];
          res = Math.max(res, Math.abs(s));
        }
        record(`A x - g (${backend})`, res / (1 + maxAbs(g)));
        assert.ok(res < 1e-10 * (1 + maxAbs(g)));
        let quad = 0;
        for (let a = 0; a < n; a++) quad += g[a] * s1[a];
        record(`quad form (${backend})`, Math.abs(q[i] - quad) / Math.abs(quad));
        assert.ok(Math.abs(q[i] - quad) < 1e-11 * Math.abs(quad));
      }
    }
    // A strided block of right-hand sides: rows of width n at offset 2, row stride n + 3; padding untouched.
    const n = 90;
    const L = cholesky(spd(n, 9), n);
    const rows = 4;
    const Y = randn(r, 2 + rows * (n + 3));
    const Y0 = Float64Array.from(Y);
    forwardSolveRows(L, n, Y, rows, n + 3, 2);
    for (let i = 0; i < rows; i++) {
      const want = forwardSolve(L, n, Y0.subarray(2 + i * (n + 3), 2 + i * (n + 3) + n));
      assert.ok(
        maxAbsDiff(Y.subarray(2 + i * (n + 3), 2 + i * (n + 3) + n), want) < 1e-12 * (1 + maxAbs(want)),
      );
      for (let p = n; p < n + 3 && 2 + i * (n + 3) + p < Y.length; p++)
        assert.equal(Y[2 + i * (n + 3) + p], Y0[2 + i * (n + 3) + p]);
    }
    setLinalgBackend('auto');
  });

/** A random orthogonal n x n matrix: a product of Householder reflections. */
function orthogonal(n: number, seed: number): Float64Array {
  const r = rng(seed);
  const Q = new Float64Array(n * n);
  for (let i = 0; i < n; i++) Q[i * n + i] = 1;
  for (let h = 0; h < Math.min(n, 6); h++) {
    const u = randn(r, n);
    const norm = Math.hypot(...u);
    for (let i = 0; i < n; i++) u[i] /= norm;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += Q[i * n + j] * u[j];
      for (let j = 0; j < n; j++) Q[i * n + j] -= 2 * s * u[j];
    }
  }
  return Q;
}

/** Q diag(w) Q^T. */
function withSpectrum(w: ArrayLike<number>, seed: number): Float64Array {
  const n = w.length;
  const Q = orthogonal(n, seed);
  const QW = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) QW[i * n + k] = Q[i * n + k] * w[k];
  return matmulNT(QW, Q, n, n, n);
}

function checkEigen(label: string, A: Float64Array, n: number, expected?: ArrayLike<number>): void {
  const { values, vectors: V } = symmetricEigen(A, n);
  const scale = Math.max(maxAbs(A), 1e-300);
  for (let k = 1; k < n; k++) assert.ok(values[k] >= values[k - 1], `${label}: ascending`);
  const AV = matmul(A, V, n, n, n);
  let res = 0;
  for (let i = 0; i < n; i++)
    for (let k = 0; k < n; k++) res = Math.max(res, Math.abs(AV[i * n + k] - V[i * n + k] * values[k]));
  const VtV = matmulTN(V, V, n, n, n);
  let orth = 0;
  for (let i = 0; i < n; i++)
    for (let k = 0; k < n; k++) orth = Math.max(orth, Math.abs(VtV[i * n + k] - (i === k ? 1 : 0)));
  record(`eigen |AV - Vw|/|A| ${label}`, res / scale);
  record(`eigen |V^TV - I| ${label}`, orth);
  assert.ok(res < 1e-13 * Math.max(1, n / 10) * scale, `${label} n=${n}: residual ${res / scale}`);
  assert.ok(orth < 1e-13 * Math.max(1, n / 10), `${label} n=${n}: orthogonality ${orth}`);
  if (expected) {
    const want = Float64Array.from(expected).sort();
    const err = maxAbsDiff(values, want) / scale;
    record(`eigen values ${label}`, err);
    assert.ok(err < 1e-13 * Math.max(1, n / 10), `${label} n=${n}: eigenvalues ${err}`);
  }
}

test('symmetric eigendecomposition: A V = V diag(w), V^T V = I, known spectra', () => {
  const r = rng(7);
  for (const n of [1, 2, 3, 10, 67, 200]) {
    const A = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) A[i * n + j] = A[j * n + i] = gaussian(r);
    checkEigen('random', A, n);
    const w = Float64Array.from({ length: n }, () => 10 * gaussian(r));
    checkEigen('known spectrum', withSpectrum(w, n), n, w);
  }
  // Repeated eigenvalues: 3 distinct values with multiplicities 40, 30, 10.
  const rep = Float64Array.from({ length: 80 }, (_, i) => (i < 40 ? 2 : i < 70 ? -1 : 5));
  checkEigen('repeated', withSpectrum(rep, 11), 80, rep);
  // Clustered: 60 eigenvalues within 1e-10 of 1, plus spread ones.
  const clu = Float64Array.from({ length: 90 }, (_, i) => (i < 60 ? 1 + i * 1e-12 : i - 50));
  checkEigen('clustered', withSpectrum(clu, 12), 90, clu);
  // A Gram matrix of rank 5 (most eigenvalues 0, the EK-FAC case of few rows and wide features).
  const n = 120;
  const X = randn(r, 5 * n);
  const G = matmulTN(X, X, 5, n, n);
  checkEigen('rank 5', G, n);
  // Larger: several levels of divide-and-conquer merges, spectrum with a cluster, a repeated value and spread.
  const big = Float64Array.from({ length: 400 }, (_, i) =>
    i < 100 ? 3 : i < 200 ? 1 + 1e-9 * i : gaussian(r),
  );
  checkEigen('400, mixed spectrum', withSpectrum(big, 13), 400, big);
  // Diagonal, zero and already tridiagonal matrices.
  const diag = new Float64Array(50 * 50);
  for (let i = 0; i < 50; i++) diag[i * 50 + i] = (i * 7) % 13;
  checkEigen(
    'diagonal',
    diag,
    50,
    Array.from({ length: 50 }, (_, i) => (i * 7) % 13),
  );
  checkEigen('zero', new Float64Array(30 * 30), 30, new Float64Array(30));
  const tri = new Float64Array(40 * 40);
  for (let i = 0; i < 40; i++) {
    tri[i * 40 + i] = 2;
    if (i > 0) tri[i * 40 + i - 1] = tri[(i - 1) * 40 + i] = -1;
  }
  checkEigen(
    'tridiagonal',
    tri,
    40,
    Array.from({ length: 40 }, (_, k) => 2 - 2 * Math.cos((Math.PI * (k + 1)) / 41)),
  );
});

// --- the linear softmax head's blocked passes against row-at-a-time definitions ---

function problem(n: number, D: number, C: number, seed: number, l2 = 1e-2): SoftmaxLinearProblem {
  const r = rng(seed);
  return {
    classes: C,
    dim: D,
    X: randn(r, n * D),
    y: Int32Array.from({ length: n }, () => Math.floor(r() * C)),
    n,
    l2,
  };
}

function rowProbs(pr: SoftmaxLinearProblem, theta: Float64Array, i: number): Float64Array {
  const { classes: C, dim: D, X } = pr;
  const z = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    z[c] = theta[c * (D + 1) + D];
    for (let j = 0; j < D; j++) z[c] += theta[c * (D + 1) + j] * X[i * D + j];
  }
  const max = Math.max(...z);
  let s = 0;
  for (let c = 0; c < C; c++) s += z[c] = Math.exp(z[c] - max);
  return z.map((v) => v / s);
}

function naiveObjective(pr: SoftmaxLinearProblem, theta: Float64Array): number {
  let loss = 0;
  for (let i = 0; i < pr.n; i++) loss -= Math.log(rowProbs(pr, theta, i)[pr.y[i]]);
  let reg = 0;
  for (const t of theta) reg += t * t;
  return loss / pr.n + 0.5 * pr.l2 * reg;
}

/** The closed-form Hessian, entry by entry: (1/n) sum_i (delta p_c - p_c p_c2) x~_j x~_k + l2 delta. */
function naiveHessian(pr: SoftmaxLinearProblem, theta: Float64Array): Float64Array {
  const { classes: C, dim: D, X, n, l2 } = pr;
  const D1 = D + 1;
  const NP = C * D1;
  const H = new Float64Array(NP * NP);
  for (let i = 0; i < n; i++) {
    const p = rowProbs(pr, theta, i);
    const xt = (j: number) => (j === D ? 1 : X[i * D + j]);
    for (let c = 0; c < C; c++)
      for (let c2 = 0; c2 < C; c2++) {
        const a = (c === c2 ? p[c] : 0) - p[c] * p[c2];
        for (let j = 0; j < D1; j++)
          for (let k = 0; k < D1; k++) H[(c * D1 + j) * NP + c2 * D1 + k] += (a * xt(j) * xt(k)) / n;
      }
  }
  for (let q = 0; q < NP; q++) H[q * NP + q] += l2;
  return H;
}

for (const backend of ['js', 'auto'] as const)
  test(`softmax head: blocked objective, gradient, HVP and dense Hessian match their definitions (${backend})`, () => {
    setLinalgBackend(backend);
    for (const [n, D, C] of [
      [1, 1, 2],
      [57, 6, 3],
      [9000, 5, 4], // more rows than one block
    ]) {
      const pr = problem(n, D, C, n + D);
      const r = rng(n);
      const NP = C * (D + 1);
      const theta = randn(r, NP);
      const v = randn(r, NP);
      const { value, grad, probs } = softmaxObjective(pr, theta, true);
      const valueRef = naiveObjective(pr, theta);
      record('softmax objective', Math.abs(value - valueRef) / Math.abs(valueRef));
      assert.ok(Math.abs(value - valueRef) < 1e-13 * Math.abs(valueRef));
      // Gradient by central differences of the naive objective.
      const h = 1e-5;
      let gErr = 0;
      for (let q = 0; q < NP; q += Math.max(1, Math.floor(NP / 8))) {
        const tp = Float64Array.from(theta);
        const tm = Float64Array.from(theta);
        tp[q] += h;
        tm[q] -= h;
        gErr = Math.max(
          gErr,
          Math.abs((naiveObjective(pr, tp) - naiveObjective(pr, tm)) / (2 * h) - grad[q]),
        );
      }
      record('softmax gradient vs central differences', gErr);
      assert.ok(gErr < 1e-8, `gradient ${gErr}`);
      // HVP by central differences of the gradient, with and without the kept probabilities.
      const Hv = softmaxHvp(pr, theta, v, probs);
      assert.ok(maxAbsDiff(Hv, softmaxHvp(pr, theta, v)) < 1e-14 * (1 + maxAbs(Hv)));
      const tp = theta.map((t, q) => t + h * v[q]);
      const tm = theta.map((t, q) => t - h * v[q]);
      const gp = softmaxObjective(pr, tp).grad;
      const gm = softmaxObjective(pr, tm).grad;
      const fd = gp.map((g, q) => (g - gm[q]) / (2 * h));
      record('softmax HVP vs central differences', maxAbsDiff(Hv, fd) / maxAbs(Hv));
      assert.ok(maxAbsDiff(Hv, fd) < 1e-7 * maxAbs(Hv));
      // The dense Hessian against the entrywise closed form, and H v against the HVP.
      if (n <= 100) {
        const H = softmaxDenseHessian(pr, theta);
        const Href = naiveHessian(pr, theta);
        record('softmax dense Hessian vs closed form', maxAbsDiff(H, Href) / maxAbs(Href));
        assert.ok(maxAbsDiff(H, Href) < 1e-14 * maxAbs(Href) * 10);
        const Hv2 = matmul(H, v, NP, NP, 1);
        record('dense Hessian x v vs HVP', maxAbsDiff(Hv2, Hv) / maxAbs(Hv));
        assert.ok(maxAbsDiff(Hv2, Hv) < 1e-13 * maxAbs(Hv));
      }
    }
    setLinalgBackend('auto');
  });

test('dense Hessian from many row blocks equals H v column by column (onnxruntime sized)', () => {
  const pr = problem(3000, 30, 5, 21);
  const r = rng(22);
  const NP = 5 * 31;
  const theta = randn(r, NP);
  const H = softmaxDenseHessian(pr, theta);
  for (let i = 0; i < NP; i++) for (let j = 0; j < i; j++) assert.equal(H[i * NP + j], H[j * NP + i]);
  const v = randn(r, NP);
  const Hv = softmaxHvp(pr, theta, v);
  const Hv2 = matmul(H, v, NP, NP, 1);
  record('dense Hessian (3000 rows) x v vs HVP', maxAbsDiff(Hv2, Hv) / maxAbs(Hv));
  assert.ok(maxAbsDiff(Hv2, Hv) < 1e-12 * maxAbs(Hv));
});

for (const backend of ['js', 'auto'] as const)
  test(`triangular inverse: W L = I; |W g|^2 and W^T W v equal the substitutions (${backend})`, () => {
    setLinalgBackend(backend);
    const r = rng(31);
    for (const [n, rows, strip] of [
      [1, 2, 512],
      [9, 5, 4],
      [64, 3, 512],
      [65, 17, 512],
      [300, 40, 128],
      [700, 9, 512],
    ]) {
      const A = spd(n, n + 3);
      const L = cholesky(A, n);
      const W = Float64Array.from(L);
      invertLowerInPlace(W, n);
      for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) assert.equal(W[i * n + j], 0);
      const I = matmul(W, L, n, n, n);
      for (let i = 0; i < n; i++) I[i * n + i] -= 1;
      record(`triangular inverse |WL - I| (${backend})`, maxAbs(I));
      assert.ok(maxAbs(I) < 1e-12, `n=${n}: ${maxAbs(I)}`);
      const G = randn(r, rows * n);
      const q = quadFormsRows(L, n, G, rows);
      const q2 = lowerQuadFormsRows(W, n, G, rows, strip);
      record(`|W g|^2 vs |L^-1 g|^2 (${backend})`, maxAbsDiff(q, q2) / maxAbs(q));
      assert.ok(maxAbsDiff(q, q2) < 1e-12 * maxAbs(q), `n=${n}`);
      const v = G.subarray(0, n);
      const x1 = cholSolve(L, n, v);
      const x2 = lowerInverseSolve(W, n, v);
      record(`W^T W v vs cholSolve (${backend})`, maxAbsDiff(x1, x2) / maxAbs(x1));
      assert.ok(maxAbsDiff(x1, x2) < 1e-12 * maxAbs(x1));
    }
    setLinalgBackend('auto');
  });

/** The K-FAC factors and refitted eigenvalues row at a time (the linear head's previous loops). */
function naiveKronecker(pr: SoftmaxLinearProblem, theta: Float64Array, QS?: Float64Array, QA?: Float64Array) {
  const { classes: C, dim: D, X, n } = pr;
  const D1 = D + 1;
  const A = new Float64Array(D1 * D1);
  const S = new Float64Array(C * C);
  const lambda = new Float64Array(C * D1);
  for (let i = 0; i < n; i++) {
    const p = rowProbs(pr, theta, i);
    const xt = Float64Array.from({ length: D1 }, (_, j) => (j === D ? 1 : X[i * D + j]));
    for (let c = 0; c < C; c++)
      for (let c2 = 0; c2 < C; c2++) S[c * C + c2] += ((c === c2 ? p[c] : 0) - p[c] * p[c2]) / n;
    for (let j = 0; j < D1; j++) for (let k = 0; k < D1; k++) A[j * D1 + k] += (xt[j] * xt[k]) / n;
    if (!QS || !QA) continue;
    for (let k = 0; k < C; k++) {
      let qa = 0;
      for (let c = 0; c < C; c++)
        for (let c2 = 0; c2 < C; c2++)
          qa += QS[c * C + k] * ((c === c2 ? p[c] : 0) - p[c] * p[c2]) * QS[c2 * C + k];
      for (let l = 0; l < D1; l++) {
        let sx = 0;
        for (let j = 0; j < D1; j++) sx += QA[j * D1 + l] * xt[j];
        lambda[k * D1 + l] += (qa * sx * sx) / n;
      }
    }
  }
  return { A, S, lambda };
}

for (const backend of ['js', 'auto'] as const)
  test(`softmax head: blocked probabilities, Kronecker factors and refitted eigenvalues match row loops (${backend})`, () => {
    setLinalgBackend(backend);
    for (const [n, D, C] of [
      [1, 1, 2],
      [40, 3, 5],
      [700, 12, 40], // many classes
      [9000, 4, 3], // more rows than one block
    ]) {
      const pr = problem(n, D, C, 3 * n + C);
      const r = rng(C);
      const D1 = D + 1;
      const theta = randn(r, C * D1);
      const P = new Float64Array(n * C);
      softmaxProbabilities(theta, C, D, pr.X, 0, n, P);
      let pErr = 0;
      for (let i = 0; i < n; i += Math.max(1, Math.floor(n / 50)))
        pErr = Math.max(pErr, maxAbsDiff(P.subarray(i * C, (i + 1) * C), rowProbs(pr, theta, i)));
      record('softmax probabilities vs row loop', pErr);
      assert.ok(pErr < 1e-14);
      const { A, S } = softmaxKroneckerFactors(pr, theta);
      const QS = symmetricEigen(S, C).vectors;
      const QA = symmetricEigen(A, D1).vectors;
      const ref = naiveKronecker(pr, theta, QS, QA);
      record('Kronecker factor A vs row loop', maxAbsDiff(A, ref.A) / maxAbs(ref.A));
      record('Kronecker factor S vs row loop', maxAbsDiff(S, ref.S) / maxAbs(ref.S));
      assert.ok(maxAbsDiff(A, ref.A) < 1e-12 * maxAbs(ref.A), `A, n=${n}`);
      assert.ok(maxAbsDiff(S, ref.S) < 1e-12 * maxAbs(ref.S), `S, n=${n}`);
      const lambda = softmaxKroneckerDiagonal(pr, theta, QS, QA);
      const lErr = maxAbsDiff(lambda, ref.lambda) / maxAbs(ref.lambda);
      record('refitted eigenvalues vs row loop', lErr);
      assert.ok(lErr < 1e-11, `n=${n} C=${C}: ${lErr}`);
    }
    setLinalgBackend('auto');
  });

test('products too large for one scratch copy run in row or column blocks and agree with the JS kernel (strided, both transposes)', (t) => {
  if (!ortAvailable) return t.skip('onnxruntime not loadable');
  setLinalgBackend('auto');
  const r = rng(41);
  // m * max(n, k) above 4M numbers with strided A and C: the onnxruntime path splits the rows of C.
  // Then a strided B of n * k above 4M with a short C: column blocks of C.
  for (const [m, n, k, tA, tB] of [
    [2100, 700, 2050, false, false],
    [2100, 700, 2050, true, false],
    [50, 2300, 2050, false, true],
    [50, 2300, 2050, true, false],
  ] as const) {
    const lda = (tA ? m : k) + 3;
    const A = randn(r, (tA ? k : m) * lda);
    const ldb = (tB ? k : n) + 2;
    const B = randn(r, (tB ? n : k) * ldb);
    const ldc = n + 5;
    const C = randn(r, m * ldc);
    const ref = Float64Array.from(C);
    gemm(tA, tB, m, n, k, -0.5, A, 2, lda, B, 1, ldb, 1, C, 1, ldc);
    jsGemmAcc(tA, tB, m, n, k, -0.5, A, 2, lda, B, 1, ldb, ref, 1, ldc);
    record('gemm row/column blocks vs js', maxAbsDiff(C, ref) / maxAbs(ref));
    assert.ok(maxAbsDiff(C, ref) < 1e-12 * maxAbs(ref), `${m} x ${n} x ${k}, transA ${tA}, transB ${tB}`);
  }
});

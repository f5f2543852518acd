// Dense linear algebra benchmark: GFLOP/s of each engine on a 512^3 product and on the engine's real shapes, the
// softmax head's passes (objective + gradient, HVP, dense Hessian), Cholesky, many-right-hand-side solves and the
// symmetric eigendecomposition, with the row-at-a-time / unblocked code they replace where that finishes in time.
//   node --import tsx scripts/bench-linalg.ts [--quick] [--reps N]
// Wall times are medians; "cpu" is this process's CPU time (all threads), which says how much of the machine the
// run had: on a shared 2-core machine, compare GFLOP/s only between runs with similar load (printed first).
// Optional: ML_MATRIX=/path/to/node_modules/ml-matrix adds the ml-matrix package's figures (not a dependency).
import os from 'node:os';
import { createRequire } from 'node:module';
import { choleskyBlocked, quadFormsRows } from '../src/engine/linalg/cholesky';
import { symmetricEigen } from '../src/engine/linalg/dense';
import { gemm, jsGemmAcc, linalgBackend, setLinalgBackend } from '../src/engine/linalg/gemm';
import {
  type SoftmaxLinearProblem,
  softmaxDenseHessian,
  softmaxHvp,
  softmaxObjective,
} from '../src/engine/linalg/softmaxLinear';
import { mulberry32 } from './mulberry32.mjs';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const repsArg = args.indexOf('--reps');
const REPS = repsArg >= 0 ? Number(args[repsArg + 1]) : 3;

const rand = mulberry32(12);
const randn = (len: number) => Float64Array.from({ length: len }, () => rand() * 2 - 1);

function measure(fn: () => void, reps = REPS): { ms: number; cpu: number } {
  const walls: number[] = [];
  const cpus: number[] = [];
  for (let r = 0; r < reps; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    fn();
    walls.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpus.push((c.user + c.system) / 1000);
  }
  const mid = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return { ms: mid(walls), cpu: mid(cpus) };
}

const rows: string[][] = [];
function report(
  what: string,
  engine: string,
  flops: number,
  t: { ms: number; cpu: number },
  note = '',
): void {
  const gf = flops > 0 ? (flops / (t.ms * 1e6)).toFixed(flops / (t.ms * 1e6) < 10 ? 2 : 1) : '';
  const row = [what, engine, t.ms.toFixed(t.ms < 10 ? 2 : 0), (t.cpu / 1000).toFixed(2), gf, note];
  rows.push(row);
  console.log(row.join('\t'));
}

function gemmEngines(
  label: string,
  tA: boolean,
  tB: boolean,
  m: number,
  n: number,
  k: number,
  withJs = true,
) {
  const A = randn(m * k);
  const B = randn(k * n);
  const C = new Float64Array(m * n);
  const lda = tA ? m : k;
  const ldb = tB ? k : n;
  const flops = 2 * m * n * k;
  setLinalgBackend('onnx');
  gemm(tA, tB, m, n, k, 1, A, 0, lda, B, 0, ldb, 0, C, 0, n); // session creation, first touch
  report(
    label,
    'onnxruntime f64',
    flops,
    measure(() => gemm(tA, tB, m, n, k, 1, A, 0, lda, B, 0, ldb, 0, C, 0, n)),
  );
  if (withJs)
    report(
      label,
      'JS blocked f64',
      flops,
      measure(() => jsGemmAcc(tA, tB, m, n, k, 1, A, 0, lda, B, 0, ldb, C, 0, n), Math.min(REPS, 3)),
    );
  setLinalgBackend('auto');
}

/** The row-at-a-time objective the blocked one replaces (model/linearHead.ts before this change). */
function rowLoopObjective(pr: SoftmaxLinearProblem, theta: Float64Array): number {
  const { classes: C, dim: D, X, y, n } = pr;
  const D1 = D + 1;
  const grad = new Float64Array(C * D1);
  const p = new Float64Array(C);
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const off = i * D;
    let max = -Infinity;
    for (let c = 0; c < C; c++) {
      let z = theta[c * D1 + D];
      for (let j = 0; j < D; j++) z += theta[c * D1 + j] * X[off + j];
      p[c] = z;
      if (z > max) max = z;
    }
    let s = 0;
    for (let c = 0; c < C; c++) s += p[c] = Math.exp(p[c] - max);
    for (let c = 0; c < C; c++) p[c] /= s;
    loss -= Math.log(p[y[i]]);
    for (let c = 0; c < C; c++) {
      const r = p[c] - (c === y[i] ? 1 : 0);
      for (let j = 0; j < D; j++) grad[c * D1 + j] += r * X[off + j];
      grad[c * D1 + D] += r;
    }
  }
  return loss + grad[0];
}

/** The unblocked Cholesky that dense.ts had before (reference speed). */
function unblockedCholesky(A: Float64Array, n: number): Float64Array {
  const L = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let d = A[j * n + j];
    for (let k = 0; k < j; k++) d -= L[j * n + k] * L[j * n + k];
    const ljj = Math.sqrt(d);
    L[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = A[i * n + j];
      for (let k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
      L[i * n + j] = s / ljj;
    }
  }
  return L;
}

function spd(n: number): Float64Array {
  const k = n + 8;
  const B = randn(n * k);
  const A = new Float64Array(n * n);
  gemm(false, true, n, n, k, 1 / k, B, 0, k, B, 0, k, 0, A, 0, n);
  for (let i = 0; i < n; i++) A[i * n + i] += 0.1;
  return A;
}

function problem(n: number, D: number, C: number): SoftmaxLinearProblem {
  return {
    classes: C,
    dim: D,
    X: randn(n * D),
    y: Int32Array.from({ length: n }, () => Math.floor(rand() * C)),
    n,
    l2: 1e-3,
  };
}

interface MlMatrix {
  mmul(o: MlMatrix): MlMatrix;
  add(o: MlMatrix): MlMatrix;
  transpose(): MlMatrix;
}
interface MlMatrixModule {
  Matrix: { new (rows: number[][]): MlMatrix; rand(r: number, c: number): MlMatrix };
  EigenvalueDecomposition: new (m: MlMatrix, o: object) => unknown;
  CholeskyDecomposition: new (m: MlMatrix) => unknown;
}

function loadMlMatrix(): MlMatrixModule | undefined {
  const path = process.env.ML_MATRIX;
  if (!path) return undefined;
  try {
    return createRequire(import.meta.url)(path) as MlMatrixModule;
  } catch (err) {
    console.log(`ml-matrix not loaded from ${path}: ${(err as Error).message}`);
    return undefined;
  }
}

function main(): void {
  const be = linalgBackend();
  console.log(
    `bench-linalg: ${os.cpus().length} CPUs (${os.cpus()[0]?.model}), load average ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}; ` + `large products on ${be.engine}${be.reason ? ` (${be.reason})` : ''}`,
  );
  console.log(['what', 'engine', 'wall ms', 'cpu s', 'GFLOP/s', 'note'].join('\t'));

  // --- products ---
  {
    const n = 512;
    const A = randn(n * n);
    const B = randn(n * n);
    const C = new Float64Array(n * n);
    report(
      'gemm 512^3',
      'plain JS triple loop',
      2 * n ** 3,
      measure(() => {
        for (let i = 0; i < n; i++)
          for (let j = 0; j < n; j++) {
            let s = 0;
            for (let p = 0; p < n; p++) s += A[i * n + p] * B[p * n + j];
            C[i * n + j] = s;
          }
      }, 1),
    );
    gemmEngines('gemm 512^3', false, false, 512, 512, 512);
  }
  gemmEngines('Z = X W^T   100000x101 * (15x101)^T', false, true, 100000, 15, 101);
  gemmEngines('G = R^T X   (100000x15)^T * 100000x101', true, false, 15, 101, 100000);
  gemmEngines('Z = X W^T   5000x785 * (10x785)^T', false, true, 5000, 10, 785);
  gemmEngines('G = R^T X   (5000x10)^T * 5000x785', true, false, 10, 785, 5000);
  gemmEngines('syrk-like Y^T Y   (8192x101)^T * 8192x101', true, false, 101, 101, 8192);

  // --- the softmax head's passes (auto: onnxruntime for the large products) ---
  for (const [n, D, C] of [
    [100000, 100, 15],
    [5000, 784, 10],
  ]) {
    const pr = problem(n, D, C);
    const NP = C * (D + 1);
    const theta = randn(NP).map((x) => 0.1 * x);
    const v = randn(NP);
    const pass = 4 * n * D * C; // two products of 2 n D C flops
    const label = `${n}x${D}x${C}`;
    report(
      `objective+grad ${label}`,
      'row loop (before)',
      pass,
      measure(() => rowLoopObjective(pr, theta), 1),
    );
    let probs: Float64Array | undefined;
    report(
      `objective+grad ${label}`,
      'blocked gemm',
      pass,
      measure(() => {
        probs = softmaxObjective(pr, theta, true).probs;
      }),
      'keeps P for the HVPs',
    );
    report(
      `HVP ${label}`,
      'blocked gemm',
      pass,
      measure(() => softmaxHvp(pr, theta, v, probs)),
      'P reused',
    );
    report(
      `HVP ${label}`,
      'blocked gemm',
      pass,
      measure(() => softmaxHvp(pr, theta, v)),
      'P recomputed',
    );
    if (!quick || NP < 2000) {
      const flops = 2 * n * (D + 1) ** 2 * ((C * (C + 1)) / 2);
      report(
        `dense Hessian P=${NP} from ${n} rows`,
        'blocked gemm',
        flops,
        measure(() => softmaxDenseHessian(pr, theta), 1),
      );
    }
  }

  // --- Cholesky and solves ---
  for (const n of quick ? [1515] : [1515, 7850]) {
    const A = spd(n);
    const flops = n ** 3 / 3;
    let L = new Float64Array(0);
    report(
      `Cholesky ${n}`,
      'recursive, gemm',
      flops,
      measure(() => (L = choleskyBlocked(A, n)), n > 5000 ? 1 : REPS),
    );
    if (n < 2000) {
      setLinalgBackend('js');
      report(
        `Cholesky ${n}`,
        'recursive, JS kernel only',
        flops,
        measure(() => choleskyBlocked(A, n), 1),
      );
      setLinalgBackend('auto');
      report(
        `Cholesky ${n}`,
        'unblocked (before)',
        flops,
        measure(() => unblockedCholesky(A, n), 1),
      );
    }
    const r = 1024;
    const G = randn(r * n);
    const t = measure(() => quadFormsRows(L, n, G, r), 1);
    report(
      `|L^-1 g|^2, ${r} rows, P=${n}`,
      'recursive trsm, gemm',
      r * n * n,
      t,
      `${Math.round((r * 1000) / t.ms)} rows/s`,
    );
  }

  // --- symmetric eigendecomposition ---
  for (const n of quick ? [785] : [785, 3001]) {
    const A = randn(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) A[j * n + i] = A[i * n + j];
    report(
      `symmetric eigen ${n}`,
      'Householder + D&C',
      (22 / 3) * n ** 3,
      measure(() => symmetricEigen(A, n), 1),
      'flops: 4/3 + 4 + 2 n^3 nominal',
    );
    // A Gram matrix of 200 rows (rank 200): the 3,000-column EK-FAC case.
    const r = 200;
    const X = randn(r * n);
    const S = new Float64Array(n * n);
    gemm(true, false, n, n, r, 1, X, 0, n, X, 0, n, 0, S, 0, n);
    report(
      `symmetric eigen ${n}, rank ${r} Gram`,
      'Householder + D&C',
      0,
      measure(() => symmetricEigen(S, n), 1),
    );
  }

  const ml = loadMlMatrix();
  if (ml) {
    const { Matrix, EigenvalueDecomposition, CholeskyDecomposition } = ml;
    const M = Matrix.rand(512, 512);
    report(
      'gemm 512^3',
      'ml-matrix mmul',
      2 * 512 ** 3,
      measure(() => M.mmul(M), 1),
    );
    const S = new Matrix(Array.from({ length: 785 }, () => Array.from(randn(785))));
    const Ss = S.add(S.transpose());
    report(
      'symmetric eigen 785',
      'ml-matrix EVD',
      0,
      measure(() => new EigenvalueDecomposition(Ss, { assumeSymmetric: true }), 1),
    );
    const A = spd(1515);
    const Am = new Matrix(
      Array.from({ length: 1515 }, (_, i) => Array.from(A.subarray(i * 1515, (i + 1) * 1515))),
    );
    report(
      'Cholesky 1515',
      'ml-matrix',
      1515 ** 3 / 3,
      measure(() => new CholeskyDecomposition(Am), 1),
    );
  }
  console.log(
    `load average at the end: ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );
}

main();

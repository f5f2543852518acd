/**
 * Training the MLP head to a stationary point of its (non-convex) objective: full-batch L-BFGS from the seeded
 * initialization, preconditioned by the EK-FAC approximation of the Gauss-Newton matrix (rebuilt every 20
 * iterations; without it the noisy spam data needed thousands of iterations to reach |grad| 1e-3), then
 * line-search Newton-CG on exact Hessian-vector products (R-operator), preconditioned the same way, for the last
 * digits; back to L-BFGS if Newton meets negative curvature. Then the two checks the user sees: whether |grad R| is
 * small, and whether the head fits its training set as far as the data allows.
 */
import { ekfacSolverKind } from '../influence/ekfac';
import { dot } from '../linalg/dense';
import type { Head, HeadData } from './head';
import { ownRows } from './identicalRows';
import type { TrainOptions, TrainReport } from './headKind';
import { lbfgs } from './lbfgs';
import type { MlpHead } from './mlpHead';

/** Influence functions assume a stationary point; the Newton phase reaches this cheaply. */
export const MLP_TOLERANCE = 1e-8;
/** |grad R| above which the report warns (scores at a point that is not stationary are not influence functions). */
export const GRADIENT_WARNING = 1e-5;
/** L-BFGS hands over to Newton below this |grad R| (measured on the shared spam data, see the report). */
export const NEWTON_SWITCH = 1e-5;
/** Iterations of L-BFGS between rebuilds of its EK-FAC preconditioner. */
const REFRESH_EVERY = 20;
const MAX_ITERATIONS = 5000;
/** Conjugate-gradient steps per Newton step (preconditioned: tens are typical). */
const MAX_CG = 250;
/** Warn when the head misfits more than this share of the rows it could fit (see fitWarning). */
export const FIT_MARGIN = 0.05;

export function trainMlp(head: MlpHead, data: HeadData, opts: TrainOptions = {}): TrainReport {
  const tol = opts.tolerance ?? MLP_TOLERANCE;
  const maxIt = opts.maxIterations ?? MAX_ITERATIONS;
  if (opts.init) head.theta = Float64Array.from(opts.init);
  const fg = (x: Float64Array) => {
    head.theta = x;
    return head.objective(data);
  };
  const precondition = (x: Float64Array) => {
    head.theta = x;
    return preconditioner(head, data);
  };
  let quasiIts = 0;
  let newtonIts = 0;
  let { value, grad } = head.objective(data);
  let gnorm = Math.sqrt(dot(grad, grad));
  let switchAt = Math.max(tol, NEWTON_SWITCH);
  while (gnorm > tol && quasiIts + newtonIts < maxIt) {
    const quasi = lbfgs(fg, head.theta, {
      tolerance: switchAt,
      maxIterations: maxIt - quasiIts - newtonIts,
      memory: 20,
      preconditioner: precondition,
      refreshEvery: REFRESH_EVERY,
      signal: opts.signal,
      onIteration: (it, v, g) => opts.onIteration?.(quasiIts + newtonIts + it, v, g),
    });
    quasiIts += quasi.iterations;
    head.theta = quasi.x;
    ({ value, grad, gradNorm: gnorm } = quasi);
    if (gnorm <= tol || quasiIts + newtonIts >= maxIt) break;
    const newton = newtonPolish(head, data, {
      tolerance: tol,
      maxIterations: maxIt - quasiIts - newtonIts,
      signal: opts.signal,
      onIteration: (it, v, g) => opts.onIteration?.(quasiIts + newtonIts + it, v, g),
    });
    newtonIts += newton.iterations;
    ({ value, grad, gradNorm: gnorm } = newton);
    if (gnorm <= tol) break;
    // Newton met negative curvature or stalled: not yet near a minimum; more quasi-Newton, closer in.
    if (quasi.iterations === 0 && newton.iterations === 0 && switchAt <= tol) break;
    switchAt = Math.max(tol, switchAt / 10);
  }
  const iterations = quasiIts + newtonIts;
  const warnings: string[] = [];
  if (gnorm > Math.max(tol, GRADIENT_WARNING))
    warnings.push(
      `the MLP stopped after ${iterations} iterations with |grad R| = ${gnorm.toExponential(2)}, not at a stationary point: its influence scores are unreliable (raise --l2 or the iteration limit)`,
    );
  const fit = fitWarning(head, data);
  if (fit) warnings.push(fit);
  return {
    method: `preconditioned l-bfgs (${quasiIts}) + newton-cg (${newtonIts})`,
    iterations,
    value,
    gradNorm: gnorm,
    warnings,
  };
}

interface NewtonOptions {
  tolerance: number;
  maxIterations: number;
  signal?: AbortSignal;
  onIteration?: (iteration: number, value: number, gradNorm: number) => void;
}

/**
 * Line-search Newton-CG (Nocedal & Wright, Algorithm 7.1) on the exact Hessian of R, for the last digits near a
 * minimum: each step solves H p = -g by conjugate gradients preconditioned with the EK-FAC approximation of the
 * Gauss-Newton matrix, to |r| <= min(0.5, sqrt|g|) |g| (superlinear convergence). It stops, leaving theta at its
 * best point, when it meets negative curvature at the first CG step or when no step along p lowers R: the caller
 * goes back to L-BFGS.
 */
export function newtonPolish(
  head: MlpHead,
  data: HeadData,
  opts: NewtonOptions,
): { value: number; grad: Float64Array; gradNorm: number; iterations: number; products: number } {
  let { value, grad } = head.objective(data);
  let gnorm = Math.sqrt(dot(grad, grad));
  let products = 0;
  let it = 0;
  for (; it < opts.maxIterations && gnorm > opts.tolerance; it++) {
    opts.signal?.throwIfAborted();
    const theta0 = head.theta;
    const M = preconditioner(head, data);
    const P = grad.length;
    const p = new Float64Array(P);
    const r = Float64Array.from(grad);
    let z = M(r);
    const d = z.map((v) => -v);
    let rz = dot(r, z);
    const forcing = Math.min(0.5, Math.sqrt(gnorm)) * gnorm;
    let negative = false;
    for (let k = 0; k < MAX_CG; k++) {
      head.theta = theta0;
      const Hd = head.product(data, d, true);
      products++;
      const dHd = dot(d, Hd);
      if (dHd <= 0) {
        negative = k === 0;
        break;
      }
      const alpha = rz / dHd;
      for (let q = 0; q < P; q++) {
        p[q] += alpha * d[q];
        r[q] += alpha * Hd[q];
      }
      if (Math.sqrt(dot(r, r)) <= forcing) break;
      z = M(r);
      const rz2 = dot(r, z);
      const beta = rz2 / rz;
      rz = rz2;
      for (let q = 0; q < P; q++) d[q] = -z[q] + beta * d[q];
    }
    head.theta = theta0;
    if (negative) break;
    const slope = dot(grad, p);
    if (!(slope < 0)) break;
    let accepted = false;
    for (let t = 1, ls = 0; ls < 30; ls++, t /= 2) {
      const cand = new Float64Array(P);
      for (let q = 0; q < P; q++) cand[q] = theta0[q] + t * p[q];
      head.theta = cand;
      const next = head.objective(data);
      const nextNorm = Math.sqrt(dot(next.grad, next.grad));
      // Near the optimum the predicted decrease falls below the rounding of R (a mean over rows): there a step
      // that lowers |grad| is what progress means.
      const flat = -t * slope < 1e-13 * Math.max(1, Math.abs(value));
      if (next.value <= value + 1e-4 * t * slope || (flat && nextNorm < gnorm)) {
        value = next.value;
        grad = next.grad;
        gnorm = nextNorm;
        accepted = true;
        break;
      }
    }
    if (!accepted) {
      head.theta = theta0;
      break;
    }
    opts.onIteration?.(it + 1, value, gnorm);
  }
  return { value, grad, gradNorm: gnorm, iterations: it, products };
}

/**
 * Training accuracy, and the most any head could reach: rows with identical inputs and different labels cannot all be
 * fit, so the ceiling is the share of rows carrying their input group's majority label.
 */
export function fitOf(
  head: Pick<Head, 'classes' | 'dim' | 'probabilities'>,
  data: HeadData,
): { accuracy: number; ceiling: number } {
  const C = head.classes;
  const D = head.dim;
  data = ownRows(data, D);
  const p = head.probabilities(data.X, data.n);
  let ok = 0;
  for (let i = 0; i < data.n; i++) {
    let best = 0;
    for (let c = 1; c < C; c++) if (p[i * C + c] > p[i * C + best]) best = c;
    if (best === data.y[i]) ok++;
  }
  // Group identical rows by a hash of their values, confirmed by comparing the values.
  const groups = new Map<number, { row: number; counts: Int32Array }[]>();
  for (let i = 0; i < data.n; i++) {
    let h = 0x811c9dc5;
    for (let j = 0; j < D; j++) h = Math.imul(h ^ hashNumber(data.X[i * D + j]), 0x01000193);
    let list = groups.get(h);
    if (!list) groups.set(h, (list = []));
    let g = list.find((e) => sameRow(data.X, e.row, i, D));
    if (!g) list.push((g = { row: i, counts: new Int32Array(C) }));
    g.counts[data.y[i]]++;
  }
  let fittable = 0;
  for (const list of groups.values()) for (const g of list) fittable += Math.max(...g.counts);
  return { accuracy: ok / data.n, ceiling: fittable / data.n };
}

const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);
function hashNumber(x: number): number {
  F64[0] = x;
  return (U32[0] ^ Math.imul(U32[1], 0x9e3779b1)) >>> 0;
}

function sameRow(X: Float64Array, a: number, b: number, D: number): boolean {
  for (let j = 0; j < D; j++) if (X[a * D + j] !== X[b * D + j]) return false;
  return true;
}

/**
 * The rule: an MLP is there to fit its training set (memorization needs a model that can); when its training
 * accuracy is more than FIT_MARGIN (5 points) below what the data allows, say so and what to change.
 */
export function fitWarning(head: MlpHead, data: HeadData): string | undefined {
  const { accuracy, ceiling } = fitOf(head, data);
  if (accuracy >= ceiling - FIT_MARGIN) return undefined;
  const pct = (x: number) => `${(100 * x).toFixed(x > 0.995 && x < 1 ? 1 : 0)}%`;
  const allows = ceiling < 1 ? ` (identical inputs with different labels allow ${pct(ceiling)})` : '';
  return `the MLP fits only ${pct(accuracy)} of its training rows${allows}: its scores do not measure memorization by a model that fits the data; try a wider --hidden or a smaller --l2`;
}

/**
 * The training preconditioner: v -> (G~ + (l2 + damping) I)^-1 v, G~ the EK-FAC approximation of the Gauss-Newton
 * matrix at the head's current theta (the EK-FAC solver's solve; cheap: three passes to build, four small products
 * per layer to apply).
 */
function preconditioner(head: MlpHead, data: HeadData): (v: Float64Array) => Float64Array {
  const solver = ekfacSolverKind.build(head, data);
  return (v) => solver.solve(v);
}

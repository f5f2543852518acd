/**
 * Newton-CG (truncated conjugate gradients on the head's curvature products, Armijo backtracking) to a stationary
 * point of R. For a convex head (the linear one: R is strongly convex for l2 > 0) it converges quadratically near the
 * optimum; it needs a positive semi-definite curvature, so a non-convex head uses it with Gauss-Newton products.
 */
import { dot } from '../linalg/dense';
import type { Head, HeadData } from './head';
import type { TrainOptions, TrainReport } from './headKind';

/** Influence functions assume an optimum, so the default tolerance is tight. */
export const DEFAULT_TOLERANCE = 1e-9;

/**
 * A head may offer a preconditioner for the conjugate gradients at its current theta: an approximation M of the
 * curvature, returned as v -> M^-1 v (built once per Newton step). The linear head does for many classes, where
 * plain CG needs hundreds of curvature products per step.
 */
export interface Preconditioned {
  curvaturePreconditioner?(data: HeadData): ((v: Float64Array) => Float64Array) | undefined;
}

export function newtonCg(head: Head, data: HeadData, opts: TrainOptions = {}): TrainReport {
  const tol = opts.tolerance ?? DEFAULT_TOLERANCE;
  const maxIt = opts.maxIterations ?? 100;
  if (opts.init) head.theta = Float64Array.from(opts.init);
  let { value, grad } = head.objective(data);
  let gnorm = Math.sqrt(dot(grad, grad));
  let it = 0;
  for (; it < maxIt && gnorm > tol; it++) {
    opts.signal?.throwIfAborted();
    const step = conjugateGradient(
      (v) => head.curvatureProduct(data, v),
      grad,
      Math.min(0.5, Math.sqrt(gnorm)) * gnorm,
      500,
      (head as Preconditioned).curvaturePreconditioner?.(data),
    );
    // The predicted decrease rate along -step (positive for a descent direction: step ~ H^-1 grad, H positive).
    const slope = dot(grad, step);
    let t = 1;
    const theta0 = head.theta;
    for (let ls = 0; ls < 40; ls++) {
      const cand = new Float64Array(theta0.length);
      for (let k = 0; k < cand.length; k++) cand[k] = theta0[k] - t * step[k];
      head.theta = cand;
      const next = head.objective(data);
      // Near the optimum the predicted decrease (t * slope, ~ |grad|^2 / curvature) falls below the rounding of R
      // (a mean of many rows), so the Armijo test cannot see progress; there a step that lowers |grad| is accepted.
      const flat = t * slope < 1e-13 * Math.max(1, Math.abs(value));
      if (
        next.value <= value - 1e-4 * t * slope ||
        (flat && Math.sqrt(dot(next.grad, next.grad)) < gnorm) ||
        ls === 39
      ) {
        value = next.value;
        grad = next.grad;
        break;
      }
      t /= 2;
    }
    gnorm = Math.sqrt(dot(grad, grad));
    opts.onIteration?.(it + 1, value, gnorm);
  }
  const warnings =
    gnorm > Math.max(tol, 1e-6)
      ? [
          `training stopped after ${it} Newton steps with |grad R| = ${gnorm.toExponential(2)}, not at an optimum`,
        ]
      : [];
  return { method: 'newton-cg', iterations: it, value, gradNorm: gnorm, warnings };
}

/**
 * Solves H x = b approximately by conjugate gradients until |r| <= tol; with a preconditioner (v -> M^-1 v, M
 * symmetric positive definite) the preconditioned variant, same stopping rule on the true residual.
 */
export function conjugateGradient(
  hvp: (v: Float64Array) => Float64Array,
  b: Float64Array,
  tol: number,
  maxIter = 500,
  precondition?: (v: Float64Array) => Float64Array,
): Float64Array {
  const x = new Float64Array(b.length);
  const r = Float64Array.from(b);
  let z = precondition ? precondition(r) : r;
  const d = Float64Array.from(z);
  let rz = dot(r, z);
  let rr = precondition ? dot(r, r) : rz;
  for (let k = 0; k < maxIter && Math.sqrt(rr) > tol; k++) {
    const Hd = hvp(d);
    const alpha = rz / dot(d, Hd);
    for (let i = 0; i < x.length; i++) {
      x[i] += alpha * d[i];
      r[i] -= alpha * Hd[i];
    }
    z = precondition ? precondition(r) : r;
    const rz2 = dot(r, z);
    const beta = rz2 / rz;
    rz = rz2;
    rr = precondition ? dot(r, r) : rz;
    for (let i = 0; i < d.length; i++) d[i] = z[i] + beta * d[i];
  }
  return x;
}

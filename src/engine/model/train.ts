import { dot } from '../linalg/dense';
import { type HeadData, type LinearHead, hessianVectorProduct, objective, paramCount } from './linearHead';

export interface TrainOptions {
  l2: number;
  /** Stop when the gradient norm of R falls below this. Influence functions assume an optimum, so it is tight. */
  tolerance?: number;
  maxIterations?: number;
  init?: Float64Array;
  onIteration?: (iteration: number, value: number, gradNorm: number) => void;
  signal?: AbortSignal;
}

export interface TrainResult {
  head: LinearHead;
  iterations: number;
  value: number;
  gradNorm: number;
}

/**
 * Trains the head to its optimum with Newton-CG (truncated conjugate gradients on exact closed-form Hessian-vector
 * products, Armijo backtracking). R is strongly convex (l2 > 0), so this converges quadratically near the optimum.
 */
export function trainHead(classes: number, dim: number, data: HeadData, opts: TrainOptions): TrainResult {
  const tol = opts.tolerance ?? 1e-9;
  const maxIt = opts.maxIterations ?? 100;
  const head: LinearHead = {
    classes,
    dim,
    l2: opts.l2,
    theta: opts.init ? Float64Array.from(opts.init) : new Float64Array(paramCount({ classes, dim })),
  };
  let { value, grad } = objective(head, data);
  let gnorm = Math.sqrt(dot(grad, grad));
  let it = 0;
  for (; it < maxIt && gnorm > tol; it++) {
    if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('aborted');
    const step = conjugateGradient(
      (v) => hessianVectorProduct(head, data, v),
      grad,
      Math.min(0.5, Math.sqrt(gnorm)) * gnorm,
    );
    const slope = -dot(grad, step);
    let t = 1;
    const theta0 = head.theta;
    for (let ls = 0; ls < 40; ls++) {
      const cand = new Float64Array(theta0.length);
      for (let k = 0; k < cand.length; k++) cand[k] = theta0[k] - t * step[k];
      head.theta = cand;
      const next = objective(head, data);
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
  return { head, iterations: it, value, gradNorm: gnorm };
}

/** Solves H x = b approximately by conjugate gradients until |r| <= tol. */
export function conjugateGradient(
  hvp: (v: Float64Array) => Float64Array,
  b: Float64Array,
  tol: number,
  maxIter = 500,
): Float64Array {
  const x = new Float64Array(b.length);
  const r = Float64Array.from(b);
  const d = Float64Array.from(b);
  let rr = dot(r, r);
  for (let k = 0; k < maxIter && Math.sqrt(rr) > tol; k++) {
    const Hd = hvp(d);
    const alpha = rr / dot(d, Hd);
    for (let i = 0; i < x.length; i++) {
      x[i] += alpha * d[i];
      r[i] -= alpha * Hd[i];
    }
    const rr2 = dot(r, r);
    const beta = rr2 / rr;
    rr = rr2;
    for (let i = 0; i < d.length; i++) d[i] = r[i] + beta * d[i];
  }
  return x;
}

/**
 * Full-batch L-BFGS (Nocedal & Wright, Algorithms 7.4 and 3.5/3.6): two-loop recursion over the last `memory`
 * curvature pairs, strong-Wolfe line search by bracketing and cubic interpolation. Generic over f: R^p -> R.
 */
import { dot } from '../linalg/dense';

export type ValueAndGradient = (x: Float64Array) => { value: number; grad: Float64Array };

export interface LbfgsOptions {
  memory?: number;
  /** Stop when |grad| <= tolerance. */
  tolerance: number;
  maxIterations: number;
  signal?: AbortSignal;
  onIteration?: (iteration: number, value: number, gradNorm: number) => void;
  /**
   * Builds a preconditioner at x: an approximation of the inverse Hessian used as the initial matrix H_0 of the
   * two-loop recursion instead of gamma I (rebuilt every `refreshEvery` iterations).
   */
  preconditioner?: (x: Float64Array) => (v: Float64Array) => Float64Array;
  refreshEvery?: number;
}

export interface MinimizeResult {
  x: Float64Array;
  value: number;
  grad: Float64Array;
  gradNorm: number;
  iterations: number;
  /** Objective evaluations (each one a full pass over the data). */
  evaluations: number;
}

const C1 = 1e-4;
const C2 = 0.9;

export function lbfgs(fg: ValueAndGradient, x0: Float64Array, opts: LbfgsOptions): MinimizeResult {
  const memory = opts.memory ?? 10;
  let x: Float64Array = Float64Array.from(x0);
  let { value, grad } = fg(x);
  let evaluations = 1;
  let gnorm = Math.sqrt(dot(grad, grad));
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  let it = 0;
  let H0: ((v: Float64Array) => Float64Array) | undefined;
  for (; it < opts.maxIterations && gnorm > opts.tolerance; it++) {
    opts.signal?.throwIfAborted();
    if (opts.preconditioner && (!H0 || it % (opts.refreshEvery ?? 20) === 0)) H0 = opts.preconditioner(x);
    // Two-loop recursion: d = -H_k grad.
    const q = Float64Array.from(grad);
    const alpha = new Array<number>(S.length);
    for (let j = S.length - 1; j >= 0; j--) {
      alpha[j] = rho[j] * dot(S[j], q);
      axpy(-alpha[j], Y[j], q);
    }
    let r: Float64Array;
    if (H0) r = H0(q);
    else {
      const gamma = S.length
        ? dot(S[S.length - 1], Y[Y.length - 1]) / dot(Y[Y.length - 1], Y[Y.length - 1])
        : 1 / gnorm;
      r = q.map((v) => v * gamma);
    }
    for (let j = 0; j < S.length; j++) {
      const b = rho[j] * dot(Y[j], r);
      axpy(alpha[j] - b, S[j], r);
    }
    let d = r.map((v) => -v);
    let slope = dot(grad, d);
    if (!(slope < 0)) {
      // Not a descent direction (rounding in a bad pair): restart from steepest descent.
      S.length = Y.length = rho.length = 0;
      d = grad.map((v) => -v / gnorm);
      slope = -gnorm;
    }
    const ls = wolfeSearch(fg, x, value, slope, d);
    evaluations += ls.evaluations;
    if (!ls.ok) {
      if (S.length === 0) break; // even steepest descent made no progress: stop (the caller reports |grad|)
      S.length = Y.length = rho.length = 0;
      it--;
      continue;
    }
    const s = new Float64Array(x.length);
    const yv = new Float64Array(x.length);
    for (let k = 0; k < x.length; k++) {
      s[k] = ls.x[k] - x[k];
      yv[k] = ls.grad[k] - grad[k];
    }
    const sy = dot(s, yv);
    if (sy > 1e-12 * Math.sqrt(dot(s, s) * dot(yv, yv))) {
      S.push(s);
      Y.push(yv);
      rho.push(1 / sy);
      if (S.length > memory) {
        S.shift();
        Y.shift();
        rho.shift();
      }
    }
    x = ls.x;
    value = ls.value;
    grad = ls.grad;
    gnorm = Math.sqrt(dot(grad, grad));
    opts.onIteration?.(it + 1, value, gnorm);
  }
  return { x, value, grad, gradNorm: gnorm, iterations: it, evaluations };
}

function axpy(a: number, x: Float64Array, y: Float64Array): void {
  for (let k = 0; k < y.length; k++) y[k] += a * x[k];
}

interface SearchResult {
  ok: boolean;
  x: Float64Array;
  value: number;
  grad: Float64Array;
  evaluations: number;
}

/** A step t along d satisfying the strong Wolfe conditions (N&W Algorithm 3.5 with zoom, Algorithm 3.6). */
function wolfeSearch(
  fg: ValueAndGradient,
  x: Float64Array,
  f0: number,
  g0: number,
  d: Float64Array,
): SearchResult {
  let evaluations = 0;
  interface Point {
    t: number;
    x: Float64Array;
    value: number;
    grad: Float64Array;
    slope: number;
  }
  const at = (t: number): Point => {
    const xt = new Float64Array(x.length);
    for (let k = 0; k < x.length; k++) xt[k] = x[k] + t * d[k];
    const r = fg(xt);
    evaluations++;
    return { t, x: xt, value: r.value, grad: r.grad, slope: dot(r.grad, d) };
  };
  const done = (p: Point): SearchResult => ({ ok: true, x: p.x, value: p.value, grad: p.grad, evaluations });
  let prev: Point = { t: 0, x, value: f0, grad: new Float64Array(0), slope: g0 };
  let t = 1;
  const zoom = (lo: Point, hi: Point): SearchResult => {
    for (let k = 0; k < 30; k++) {
      const tNew = cubicMin(lo, hi);
      const p = at(tNew);
      if (p.value > f0 + C1 * p.t * g0 || p.value >= lo.value) hi = p;
      else {
        if (Math.abs(p.slope) <= -C2 * g0) return done(p);
        if (p.slope * (hi.t - lo.t) >= 0) hi = lo;
        lo = p;
      }
      if (Math.abs(hi.t - lo.t) < 1e-14 * Math.max(1, lo.t)) break;
    }
    // The interval collapsed (rounding): accept the best point if it lowered f at all.
    return lo.t > 0 && lo.value < f0 ? done(lo) : { ok: false, x, value: f0, grad: prev.grad, evaluations };
  };
  for (let k = 0; k < 30; k++) {
    const p = at(t);
    if (!Number.isFinite(p.value)) {
      t = 0.5 * (prev.t + t);
      continue;
    }
    if (p.value > f0 + C1 * t * g0 || (k > 0 && p.value >= prev.value)) return zoom(prev, p);
    if (Math.abs(p.slope) <= -C2 * g0) return done(p);
    if (p.slope >= 0) return zoom(p, prev);
    prev = p;
    t *= 2;
  }
  return { ok: false, x, value: f0, grad: prev.grad, evaluations };
}

/** Minimizer of the cubic through (lo.t, lo.value, lo.slope) and (hi.t, ...), kept inside the interval. */
function cubicMin(
  lo: { t: number; value: number; slope: number },
  hi: { t: number; value: number; slope: number },
): number {
  const a = Math.min(lo.t, hi.t);
  const b = Math.max(lo.t, hi.t);
  const d1 = lo.slope + hi.slope - (3 * (lo.value - hi.value)) / (lo.t - hi.t);
  const disc = d1 * d1 - lo.slope * hi.slope;
  let t = NaN;
  if (disc >= 0) {
    const d2 = Math.sign(hi.t - lo.t) * Math.sqrt(disc);
    t = hi.t - (hi.t - lo.t) * ((hi.slope + d2 - d1) / (hi.slope - lo.slope + 2 * d2));
  }
  const margin = 0.1 * (b - a);
  if (!Number.isFinite(t) || t < a + margin || t > b - margin) t = 0.5 * (a + b);
  return t;
}

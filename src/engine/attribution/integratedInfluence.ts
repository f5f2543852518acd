import type { TokenFeatures } from '../featurize/featurizer';
import { type LinearHead, probabilities, rowLossGradient } from '../model/linearHead';
import type { InfluenceSolver } from '../influence/solvers';

export interface RowAttribution {
  /** Per-token attribution; sums (up to Riemann error) to `target`. Positive (red): needs memorizing. */
  a: Float64Array;
  /**
   * What the attributions must add up to (completeness): -s^T (grad L(z) - grad L(z')) with s = H^-1 grad P(y|x)
   * of the row z (held fixed) and z' the baseline input (every token replaced by its baseline vector, pooled).
   * The first term, -s^T grad L(z), is exactly the row's memorization score M(z) (score in the results); the second,
   * -s^T grad L(z'), is the same quadratic form with z's s at the baseline input, i.e. the score z' would get as a
   * test point against z: target = score(z) - score_z(z'). With the zero baseline of word vectors, z' is the bias-only
   * input; with the ONNX [MASK] baseline, it is the mean-pooled encoder output of the all-[MASK] sequence.
   */
  target: number;
  /** |sum(a) - target| / max(|target|, tiny). */
  gap: number;
}

/** Pools token vectors (T x dim) into one vector: mean for text, sum for tabular columns. */
export function pool(E: Float64Array, T: number, dim: number, pooling: 'mean' | 'sum'): Float64Array {
  const h = new Float64Array(dim);
  for (let t = 0; t < T; t++) for (let l = 0; l < dim; l++) h[l] += E[t * dim + l];
  if (pooling === 'mean' && T > 0) for (let l = 0; l < dim; l++) h[l] /= T;
  return h;
}

/**
 * d/dh of f(h) = s^T grad_theta L(h, y), in closed form: with u = S h~ (S = s as C x (D+1)),
 * f = (p - e_y)^T u, so df/dh = W^T (diag p - p p^T) u + S_{:,1..D}^T (p - e_y). Exact, no double backprop.
 */
export function influenceInputGradient(
  head: LinearHead,
  s: ArrayLike<number>,
  h: ArrayLike<number>,
  y: number,
): Float64Array {
  const { classes: C, dim: D, theta } = head;
  const D1 = D + 1;
  const p = probabilities(theta, C, D, h);
  const u = new Float64Array(C);
  let pu = 0;
  for (let c = 0; c < C; c++) {
    let v = s[c * D1 + D];
    for (let j = 0; j < D; j++) v += s[c * D1 + j] * h[j];
    u[c] = v;
    pu += p[c] * v;
  }
  const g = new Float64Array(D);
  for (let c = 0; c < C; c++) {
    const a = p[c] * (u[c] - pu);
    const r = p[c] - (c === y ? 1 : 0);
    for (let j = 0; j < D; j++) g[j] += a * theta[c * D1 + j] + r * s[c * D1 + j];
  }
  return g;
}

/** f(h) = s^T grad_theta L(h, y). */
export function influenceAt(head: LinearHead, s: ArrayLike<number>, h: ArrayLike<number>, y: number): number {
  const { grad } = rowLossGradient(head.theta, head.classes, head.dim, h, y);
  let v = 0;
  for (let k = 0; k < grad.length; k++) v += s[k] * grad[k];
  return v;
}

/**
 * The paper's Eqn 5: integrated-gradients attribution of the memorization score to tokens, along the straight path
 * from the baseline representation E' (the featurizer's: zeros for word vectors, the [MASK]-sequence encoder output
 * for ONNX) to E, midpoint Riemann sum with `steps` points. Pooling is linear, so the
 * path in E maps to the straight path in h and r_t = w_t * integral of df/dh (w_t = 1/T for mean pooling).
 */
export function attributeRow(
  head: LinearHead,
  solver: InfluenceSolver,
  feats: TokenFeatures,
  pooling: 'mean' | 'sum',
  y: number,
  steps = 50,
  s?: Float64Array,
): RowAttribution {
  const T = feats.tokens.length;
  const D = feats.dim;
  if (feats.Ebase.length !== feats.E.length)
    throw new Error(
      `attributeRow: the baseline has ${feats.Ebase.length} values, E has ${feats.E.length} (featurize with baseline: true)`,
    );
  const h = pool(feats.E, T, D, pooling);
  const h0 = pool(feats.Ebase, T, D, pooling);
  if (!s) {
    const { grad, p } = rowLossGradient(head.theta, head.classes, head.dim, h, y);
    const gradP = grad.map((g) => -p[y] * g); // grad P = -P grad L
    s = solver.solve(gradP);
  }
  const integral = new Float64Array(D);
  const hk = new Float64Array(D);
  for (let k = 0; k < steps; k++) {
    const alpha = (k + 0.5) / steps;
    for (let l = 0; l < D; l++) hk[l] = h0[l] + alpha * (h[l] - h0[l]);
    const g = influenceInputGradient(head, s, hk, y);
    for (let l = 0; l < D; l++) integral[l] += g[l] / steps;
  }
  const w = pooling === 'mean' && T > 0 ? 1 / T : 1;
  const a = new Float64Array(T);
  let sum = 0;
  for (let t = 0; t < T; t++) {
    let v = 0;
    for (let l = 0; l < D; l++) v += integral[l] * (feats.E[t * D + l] - feats.Ebase[t * D + l]);
    a[t] = -w * v;
    sum += a[t];
  }
  const target = -(influenceAt(head, s, h, y) - influenceAt(head, s, h0, y));
  const gap = Math.abs(sum - target) / Math.max(Math.abs(target), 1e-12);
  return { a, target, gap };
}

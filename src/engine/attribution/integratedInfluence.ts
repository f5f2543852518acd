import type { TokenFeatures } from '../featurize/featurizer';
import { type Pooling, poolTokens, tokenDeltaDot } from '../featurize/tokenVectors';
import { type Head, rowGradient } from '../model/head';
import type { InfluenceSolver } from '../influence/solver';
import { IDENTITY, type InputTransform } from '../pipeline/standardize';
import { gaussLegendre } from './quadrature';

export interface RowAttribution {
  /** Per-token attribution; sums (up to Riemann error) to `target`. Positive (red): needs memorizing. */
  a: Float64Array;
  /**
   * What the attributions must add up to (completeness): -s^T (grad L(z) - grad L(z')) with s = H^-1 grad P(y|x)
   * of the row z (held fixed) and z' the baseline input (every token replaced by its baseline vector, pooled).
   * The first term, -s^T grad L(z), is exactly the row's memorization score M(z) (score in the results); the second,
   * -s^T grad L(z'), is the same quadratic form with z's s at the baseline input, i.e. the score z' would get as a
   * test point against z: target = score(z) - score_z(z'). With the zero baseline of word vectors, z' is the
   * zero pooled input (after standardization, minus the mean over the standard deviation); with the ONNX [MASK]
   * baseline, it is the mean-pooled encoder output of the all-[MASK] sequence.
   */
  target: number;
  /** |sum(a) - target| / max(|target|, tiny). */
  gap: number;
}

/** f(h) = s^T grad_theta L(h, y), at a head input h. */
export function influenceAt(head: Head, s: ArrayLike<number>, h: ArrayLike<number>, y: number): number {
  const { grad } = rowGradient(head, h, y);
  let v = 0;
  for (let k = 0; k < grad.length; k++) v += s[k] * grad[k];
  return v;
}

/** grad P(y|x) = -P(y|x) grad L at head input h: the right-hand side of the influence direction. */
function probabilityGradient(head: Head, h: ArrayLike<number>, y: number): Float64Array {
  const { grad, p } = rowGradient(head, h, y);
  const py = p[y];
  return grad.map((g) => -py * g);
}

/** s = H^-1 grad P(y|x) at head input h (grad P = -P grad L). */
export function influenceDirection(
  head: Head,
  solver: InfluenceSolver,
  h: ArrayLike<number>,
  y: number,
): Float64Array {
  return solver.solve(probabilityGradient(head, h, y));
}

/** influenceDirection for many rows: one blocked solve where the solver offers solveRows. */
export function influenceDirections(
  head: Head,
  solver: InfluenceSolver,
  hs: readonly ArrayLike<number>[],
  ys: readonly number[],
): Float64Array[] {
  if (!solver.solveRows || hs.length < 2) return hs.map((h, i) => influenceDirection(head, solver, h, ys[i]));
  const P = head.size;
  const V = new Float64Array(hs.length * P);
  hs.forEach((h, i) => V.set(probabilityGradient(head, h, ys[i]), i * P));
  const X = solver.solveRows(V, hs.length);
  return hs.map((_, i) => X.subarray(i * P, (i + 1) * P));
}

/**
 * The paper's Eqn 5: integrated-gradients attribution of the memorization score to tokens, along the straight path
 * from the baseline representation E' (the featurizer's: zeros for word vectors, the column means for numeric
 * columns, the [MASK]-sequence encoder output for ONNX) to E, with `steps` gradient evaluations placed as
 * Gauss-Legendre nodes (quadrature.ts; the paper's midpoint Riemann sum uses as many, with a larger error). Pooling
 * and the input transform (standardization) are affine, so the path in E maps to the straight path in the head's
 * input and r_t = w_t (E_t - E'_t) . T'(integral of df/dh) (w_t = 1/T for mean pooling), exact up to the
 * quadrature error.
 */
export function attributeRow(
  head: Head,
  solver: InfluenceSolver,
  feats: TokenFeatures,
  pooling: Pooling,
  y: number,
  steps = 50,
  transform: InputTransform = IDENTITY,
  s?: Float64Array,
): RowAttribution {
  const T = feats.tokens.length;
  const D = head.dim;
  if (feats.Ebase.length !== feats.E.length)
    throw new Error(
      `attributeRow: the baseline has ${feats.Ebase.length} values, E has ${feats.E.length} (featurize with baseline: true)`,
    );
  const h = transform.apply(poolTokens(feats, pooling));
  const h0 = transform.apply(poolTokens(feats, pooling, true));
  s ??= influenceDirection(head, solver, h, y);
  const integral = new Float64Array(D);
  const hk = new Float64Array(D);
  const { nodes, weights } = gaussLegendre(steps);
  for (let k = 0; k < steps; k++) {
    const alpha = nodes[k];
    for (let l = 0; l < D; l++) hk[l] = h0[l] + alpha * (h[l] - h0[l]);
    const g = head.inputGradient(s, hk, y);
    for (let l = 0; l < D; l++) integral[l] += weights[k] * g[l];
  }
  // Back through the input transform to the pooled (raw) space the tokens live in.
  const raw = transform.pullback(integral);
  const w = pooling === 'mean' && T > 0 ? 1 / T : 1;
  const a = new Float64Array(T);
  let sum = 0;
  for (let t = 0; t < T; t++) {
    a[t] = -w * tokenDeltaDot(feats, t, raw);
    sum += a[t];
  }
  const target = -(influenceAt(head, s, h, y) - influenceAt(head, s, h0, y));
  const gap = Math.abs(sum - target) / Math.max(Math.abs(target), 1e-12);
  return { a, target, gap };
}

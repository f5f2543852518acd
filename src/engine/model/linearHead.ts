/**
 * Multinomial logistic regression on pooled features: one layer, theta = [W | b] as a C x (D+1) row-major matrix,
 * acting on the augmented input x~ = [x, 1]. Objective R = mean_i CE_i + (l2/2) |theta|^2.
 *
 * Everything second-order is closed form: the softmax cross-entropy Hessian of a linear layer is
 * A_i (x) x~_i x~_i^T with A_i = diag(p_i) - p_i p_i^T, which is also its Gauss-Newton matrix (the model is linear in
 * theta), so the two curvatures coincide and no damping is needed (R is strictly convex for l2 > 0).
 */
import type {
  GradientBatch,
  Head,
  HeadCapability,
  HeadData,
  HeadLayer,
  KroneckerBasis,
  KroneckerFactors,
} from './head';
import type { HeadKind, HeadOptions } from './headKind';
import { symmetricEigen } from '../linalg/dense';
import { gemm } from '../linalg/gemm';
import {
  type SoftmaxLinearProblem,
  inputSecondMoment,
  softmaxDenseHessian,
  softmaxHvp,
  softmaxKroneckerDiagonal,
  softmaxKroneckerFactors,
  softmaxObjective,
  softmaxProbabilities,
} from '../linalg/softmaxLinear';
import { featureRow, mergeIdenticalRows, ownRows } from './identicalRows';
import { newtonCg } from './newtonCg';

/** Softmax of theta (C x (D+1)) on x[xOff .. xOff+D), written into out (length C, at outOff). */
export function softmaxRow(
  theta: ArrayLike<number>,
  C: number,
  D: number,
  x: ArrayLike<number>,
  xOff: number,
  out: Float64Array,
  outOff = 0,
): void {
  const D1 = D + 1;
  let max = -Infinity;
  for (let c = 0; c < C; c++) {
    const w = c * D1;
    let z = theta[w + D];
    for (let j = 0; j < D; j++) z += theta[w + j] * x[xOff + j];
    out[outOff + c] = z;
    if (z > max) max = z;
  }
  let sum = 0;
  for (let c = 0; c < C; c++) {
    const e = Math.exp(out[outOff + c] - max);
    out[outOff + c] = e;
    sum += e;
  }
  for (let c = 0; c < C; c++) out[outOff + c] /= sum;
}

const CAPABILITIES: ReadonlySet<HeadCapability> = new Set(['denseCurvature', 'rowCurvature', 'kronecker']);

/** Probabilities kept for the curvature products are dropped above this many numbers (n x C; 256 MB). */
const KEEP_PROBS = 1 << 25;

/**
 * From this many classes Newton-CG's conjugate gradients are preconditioned (curvaturePreconditioner). Below it
 * plain CG needs a few dozen products per step and is kept as it was, so results there are unchanged.
 */
export const PRECONDITION_CLASSES = 64;

function asFloat64(X: ArrayLike<number>): Float64Array {
  return X instanceof Float64Array ? X : Float64Array.from(X);
}

/**
 * The heavy passes (objective, curvature products, dense Hessian, Kronecker factors, per-row gradients) are matrix
 * products over blocks of rows (linalg/softmaxLinear.ts, on gemm.ts); the per-row ones (LiSSA's stochastic product,
 * the attribution's input gradient) stay loops over one row.
 */
export class LinearHead implements Head {
  readonly kind = 'linear';
  readonly curvature = 'hessian' as const;
  readonly damping = 0;
  readonly capabilities = CAPABILITIES;
  readonly layers: readonly HeadLayer[];
  readonly size: number;
  theta: Float64Array;
  /**
   * The n x C probabilities of the last objective(data), which Newton-CG's curvature products at the same theta
   * reuse. Valid only for the same data object and a theta equal to the copy taken then (training assigns a new
   * array, but a caller may also write into theta: an O(size) comparison is cheap next to an O(n C D) product).
   */
  private kept?: { data: HeadData; n: number; theta: Float64Array; probs: Float64Array };
  /** Eigenpairs of A = X~^T X~ / n for the preconditioner (A does not depend on theta), per data object. */
  private inputBasis?: { data: HeadData; n: number; values: Float64Array; vectors: Float64Array };

  constructor(
    readonly classes: number,
    readonly dim: number,
    readonly l2: number,
    theta?: Float64Array,
  ) {
    this.layers = [{ offset: 0, out: classes, in: dim + 1 }];
    this.size = classes * (dim + 1);
    this.theta = theta ?? new Float64Array(this.size);
    if (this.theta.length !== this.size)
      throw new Error(`linear head: theta has ${this.theta.length} values, expected ${this.size}`);
  }

  describe(): string {
    return `linear (${this.size} parameters)`;
  }

  /** The problem over data's rows, a row of X each (EK-FAC's factors; shared rows are copied out for them). */
  private problem(data: HeadData): SoftmaxLinearProblem {
    const own = ownRows(data, this.dim);
    return { classes: this.classes, dim: this.dim, X: own.X, y: own.y, n: own.n, l2: this.l2 };
  }

  /** The problem over data's distinct rows, weighted by their copies (or over data itself: see MergedRows). */
  private mergedProblem(data: HeadData): SoftmaxLinearProblem {
    const m = mergeIdenticalRows(data, this.dim);
    return m
      ? { classes: this.classes, dim: this.dim, X: m.X, y: m.y, n: m.n, l2: this.l2, w: m.w }
      : this.problem(data);
  }

  /** Drops the kept probabilities (n x C numbers): training is over, the head lives on with the scores. */
  forgetProbabilities(): void {
    this.kept = undefined;
    this.inputBasis = undefined;
  }

  /** The kept probabilities when they belong to data and the current theta. */
  private keptProbs(data: HeadData): Float64Array | undefined {
    const k = this.kept;
    if (!k || k.data !== data || k.n !== data.n) return undefined;
    const t = this.theta;
    for (let i = 0; i < t.length; i++) if (t[i] !== k.theta[i]) return undefined;
    return k.probs;
  }

  /**
   * For many classes: M = blockdiag_c(s_c A + l2 I), s_c = mean_i p_ic (1 - p_ic) and A = E[x~ x~^T], i.e. the
   * class-diagonal of the Hessian with each class's row weights replaced by their mean. In A's eigenbasis M^-1 is a
   * division, so applying it costs two C x (D+1) x (D+1) products. Needs the probabilities of the objective just
   * evaluated at theta (Newton-CG evaluates it before each step); undefined otherwise, or for few classes.
   */
  curvaturePreconditioner(data: HeadData): ((v: Float64Array) => Float64Array) | undefined {
    const { classes: C, dim: D, l2 } = this;
    const D1 = D + 1;
    if (C < PRECONDITION_CLASSES) return undefined;
    const probs = this.keptProbs(data);
    if (!probs) return undefined;
    let basis = this.inputBasis;
    if (!basis || basis.data !== data || basis.n !== data.n) {
      const { values, vectors } = symmetricEigen(inputSecondMoment(ownRows(data, D).X, data.n, D), D1);
      basis = this.inputBasis = { data, n: data.n, values, vectors };
    }
    // The kept probabilities are those of the merged rows when the objective ran on them (mergedProblem).
    const { n: rows, w } = this.mergedProblem(data);
    const s = new Float64Array(C);
    for (let i = 0; i < rows; i++) {
      const o = i * C;
      const wi = w ? w[i] : 1;
      for (let c = 0; c < C; c++) s[c] += wi * probs[o + c] * (1 - probs[o + c]);
    }
    const inv = new Float64Array(C * D1);
    for (let c = 0; c < C; c++)
      for (let k = 0; k < D1; k++)
        inv[c * D1 + k] = 1 / ((s[c] / data.n) * Math.max(basis.values[k], 0) + l2);
    const Q = basis.vectors;
    return (v) => {
      const Y = new Float64Array(C * D1);
      gemm(false, false, C, D1, D1, 1, v, 0, D1, Q, 0, D1, 0, Y, 0, D1);
      for (let k = 0; k < Y.length; k++) Y[k] *= inv[k];
      const out = new Float64Array(C * D1);
      gemm(false, true, C, D1, D1, 1, Y, 0, D1, Q, 0, D1, 0, out, 0, D1);
      return out;
    };
  }

  probabilities(X: ArrayLike<number>, m: number, out = new Float64Array(m * this.classes)): Float64Array {
    if (m > 0) softmaxProbabilities(this.theta, this.classes, this.dim, asFloat64(X), 0, m, out);
    return out;
  }

  objective(data: HeadData): { value: number; grad: Float64Array } {
    const pr = this.mergedProblem(data);
    const keep = pr.n * this.classes <= KEEP_PROBS;
    const { value, grad, probs } = softmaxObjective(pr, this.theta, keep);
    this.kept = probs ? { data, n: data.n, theta: this.theta.slice(), probs } : undefined;
    return { value, grad };
  }

  /** delta = p - e_y (the residuals), act = x~: the row's gradient is their outer product. */
  gradients(X: ArrayLike<number>, y: ArrayLike<number>, m: number, from = 0): GradientBatch {
    const { classes: C, dim: D } = this;
    const D1 = D + 1;
    const Xf = asFloat64(X);
    const prob = new Float64Array(m * C);
    if (m > 0) softmaxProbabilities(this.theta, C, D, Xf, from * D, m, prob);
    const delta = prob.slice();
    const act = new Float64Array(m * D1);
    for (let i = 0; i < m; i++) {
      delta[i * C + y[from + i]] -= 1;
      act.set(Xf.subarray((from + i) * D, (from + i + 1) * D), i * D1);
      act[i * D1 + D] = 1;
    }
    return { m, prob, layers: [{ delta, act }] };
  }

  curvatureProduct(data: HeadData, v: ArrayLike<number>): Float64Array {
    return softmaxHvp(this.mergedProblem(data), this.theta, asFloat64(v), this.keptProbs(data));
  }

  rowCurvatureProduct(
    data: HeadData,
    i: number,
    v: ArrayLike<number>,
    out: Float64Array,
    scale: number,
  ): void {
    const { classes: C, dim: D } = this;
    const D1 = D + 1;
    const off = featureRow(data, i) * D;
    const X = data.X;
    const p = new Float64Array(C);
    softmaxRow(this.theta, C, D, X, off, p);
    const u = new Float64Array(C);
    let pu = 0;
    for (let c = 0; c < C; c++) {
      let s = v[c * D1 + D];
      for (let j = 0; j < D; j++) s += v[c * D1 + j] * X[off + j];
      u[c] = s;
      pu += p[c] * s;
    }
    // scale * (A_i V x~_i) (x) x~_i: the data part of row i's Hessian applied to v.
    for (let c = 0; c < C; c++) {
      const a = scale * p[c] * (u[c] - pu);
      if (a === 0) continue;
      const g = c * D1;
      for (let j = 0; j < D; j++) out[g + j] += a * X[off + j];
      out[g + D] += a;
    }
  }

  /**
   * d/dh of f(h) = s^T grad_theta L(h, y), in closed form: with u = S h~ (S = s as C x (D+1)),
   * f = (p - e_y)^T u, so df/dh = W^T (diag p - p p^T) u + S_{:,1..D}^T (p - e_y).
   */
  inputGradient(s: ArrayLike<number>, h: ArrayLike<number>, y: number): Float64Array {
    const { classes: C, dim: D, theta } = this;
    const D1 = D + 1;
    const p = new Float64Array(C);
    softmaxRow(theta, C, D, h, 0, p);
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
      if (a === 0 && r === 0) continue;
      const w = c * D1;
      for (let j = 0; j < D; j++) g[j] += a * theta[w + j] + r * s[w + j];
    }
    return g;
  }

  /** Dense Hessian of R (size x size, row-major), exact: O(n C^2 D^2), in matrix products. */
  denseCurvature(data: HeadData): Float64Array {
    return softmaxDenseHessian(this.mergedProblem(data), this.theta);
  }

  /** A = E[x~ x~^T], S = E[diag p - p p^T]. */
  kroneckerFactors(data: HeadData): KroneckerFactors[] {
    return [softmaxKroneckerFactors(this.problem(data), this.theta)];
  }

  /** lambda_kl = (1/n) sum_i (q_k^T A_i q_k) (s_l^T x~_i)^2, the exact Hessian diagonal in the Kronecker eigenbasis. */
  kroneckerDiagonal(data: HeadData, bases: readonly KroneckerBasis[]): Float64Array[] {
    const { QS, QA } = bases[0];
    return [softmaxKroneckerDiagonal(this.problem(data), this.theta, QS, QA)];
  }
}

export const linearHeadKind: HeadKind = {
  name: 'linear',
  summary:
    'multinomial logistic regression on the pooled features (convex: one optimum, closed-form curvature)',
  convex: true,
  create(classes: number, dim: number, options: HeadOptions) {
    if (options.hidden?.length) throw new Error('the linear head has no hidden layers');
    return new LinearHead(classes, dim, options.l2);
  },
  train(head, data, options = {}) {
    const report = newtonCg(head, data, options);
    if (head instanceof LinearHead) head.forgetProbabilities();
    return report;
  },
};

/**
 * Multinomial logistic regression on pooled features: theta = [W | b] as a C x (D+1) row-major matrix, i.e. the
 * weights act on the augmented input x~ = [x, 1]. Objective R = mean_i CE_i + (l2/2) |theta|^2.
 *
 * Everything second-order is closed form (the softmax cross-entropy Hessian of a linear layer is A_i (x) x~ x~^T with
 * A_i = diag(p_i) - p_i p_i^T), so no double backprop is needed (see PLATFORM.md on tfjs).
 */
export interface LinearHead {
  classes: number;
  /** Input feature dimension D (without the bias column). */
  dim: number;
  /** C x (D+1), row-major. */
  theta: Float64Array;
  l2: number;
}

/** Training data: n pooled feature vectors (n x D row-major) and class indices. */
export interface HeadData {
  X: Float64Array;
  y: Int32Array;
  n: number;
}

export function paramCount(h: Pick<LinearHead, 'classes' | 'dim'>): number {
  return h.classes * (h.dim + 1);
}

/** Softmax probabilities of theta on x (length D), written into out (length C). */
export function probabilities(
  theta: ArrayLike<number>,
  C: number,
  D: number,
  x: ArrayLike<number>,
  xOff = 0,
  out: Float64Array = new Float64Array(C),
): Float64Array {
  const D1 = D + 1;
  let max = -Infinity;
  for (let c = 0; c < C; c++) {
    let z = theta[c * D1 + D];
    for (let j = 0; j < D; j++) z += theta[c * D1 + j] * x[xOff + j];
    out[c] = z;
    if (z > max) max = z;
  }
  let sum = 0;
  for (let c = 0; c < C; c++) {
    out[c] = Math.exp(out[c] - max);
    sum += out[c];
  }
  for (let c = 0; c < C; c++) out[c] /= sum;
  return out;
}

/** Gradient of one row's cross-entropy: (p - e_y) (x) x~ , length C(D+1). Also returns p. */
export function rowLossGradient(
  theta: ArrayLike<number>,
  C: number,
  D: number,
  x: ArrayLike<number>,
  y: number,
  xOff = 0,
): { grad: Float64Array; p: Float64Array } {
  const p = probabilities(theta, C, D, x, xOff);
  const D1 = D + 1;
  const grad = new Float64Array(C * D1);
  for (let c = 0; c < C; c++) {
    const r = p[c] - (c === y ? 1 : 0);
    for (let j = 0; j < D; j++) grad[c * D1 + j] = r * x[xOff + j];
    grad[c * D1 + D] = r;
  }
  return { grad, p };
}

/** Objective value and gradient over the data. */
export function objective(head: LinearHead, data: HeadData): { value: number; grad: Float64Array } {
  const { classes: C, dim: D, theta, l2 } = head;
  const D1 = D + 1;
  const grad = new Float64Array(C * D1);
  const p = new Float64Array(C);
  let loss = 0;
  for (let i = 0; i < data.n; i++) {
    const off = i * D;
    probabilities(theta, C, D, data.X, off, p);
    const yi = data.y[i];
    loss -= Math.log(Math.max(p[yi], 1e-300));
    for (let c = 0; c < C; c++) {
      const r = p[c] - (c === yi ? 1 : 0);
      if (r === 0) continue;
      const g = c * D1;
      for (let j = 0; j < D; j++) grad[g + j] += r * data.X[off + j];
      grad[g + D] += r;
    }
  }
  let reg = 0;
  for (let k = 0; k < grad.length; k++) {
    grad[k] = grad[k] / data.n + l2 * theta[k];
    reg += theta[k] * theta[k];
  }
  return { value: loss / data.n + 0.5 * l2 * reg, grad };
}

/** Hessian-vector product of R at theta: (1/n) sum_i (A_i V x~_i) (x) x~_i + l2 v, closed form. */
export function hessianVectorProduct(head: LinearHead, data: HeadData, v: ArrayLike<number>): Float64Array {
  const { classes: C, dim: D, theta, l2 } = head;
  const D1 = D + 1;
  const out = new Float64Array(C * D1);
  const p = new Float64Array(C);
  const u = new Float64Array(C);
  for (let i = 0; i < data.n; i++) {
    const off = i * D;
    rowHvpInto(theta, C, D, data.X, off, v, p, u, out, 1);
  }
  for (let k = 0; k < out.length; k++) out[k] = out[k] / data.n + l2 * v[k];
  return out;
}

/** Adds scale * (A_i V x~_i) (x) x~_i into out; the data part of one row's Hessian applied to v. */
export function rowHvpInto(
  theta: ArrayLike<number>,
  C: number,
  D: number,
  X: ArrayLike<number>,
  off: number,
  v: ArrayLike<number>,
  p: Float64Array,
  u: Float64Array,
  out: Float64Array,
  scale: number,
): void {
  const D1 = D + 1;
  probabilities(theta, C, D, X, off, p);
  let pu = 0;
  for (let c = 0; c < C; c++) {
    let s = v[c * D1 + D];
    for (let j = 0; j < D; j++) s += v[c * D1 + j] * X[off + j];
    u[c] = s;
    pu += p[c] * s;
  }
  for (let c = 0; c < C; c++) {
    const a = scale * p[c] * (u[c] - pu);
    if (a === 0) continue;
    const g = c * D1;
    for (let j = 0; j < D; j++) out[g + j] += a * X[off + j];
    out[g + D] += a;
  }
}

/** Dense Hessian of R (p x p, row-major), exact. O(n C^2 D^2): for the exact solver on small heads. */
export function denseHessian(head: LinearHead, data: HeadData): Float64Array {
  const { classes: C, dim: D, theta, l2 } = head;
  const D1 = D + 1;
  const P = C * D1;
  const H = new Float64Array(P * P);
  const p = new Float64Array(C);
  const xt = new Float64Array(D1);
  xt[D] = 1;
  for (let i = 0; i < data.n; i++) {
    const off = i * D;
    probabilities(theta, C, D, data.X, off, p);
    for (let j = 0; j < D; j++) xt[j] = data.X[off + j];
    for (let c = 0; c < C; c++) {
      for (let c2 = c; c2 < C; c2++) {
        const a = (c === c2 ? p[c] : 0) - p[c] * p[c2];
        if (a === 0) continue;
        for (let j = 0; j < D1; j++) {
          const aj = a * xt[j];
          if (aj === 0) continue;
          const row = (c * D1 + j) * P + c2 * D1;
          for (let k = 0; k < D1; k++) H[row + k] += aj * xt[k];
        }
      }
    }
  }
  // Fill the lower block triangle from the upper one, then scale and regularize.
  for (let c = 0; c < C; c++)
    for (let c2 = 0; c2 < c; c2++)
      for (let j = 0; j < D1; j++)
        for (let k = 0; k < D1; k++) H[(c * D1 + j) * P + c2 * D1 + k] = H[(c2 * D1 + k) * P + c * D1 + j];
  for (let k = 0; k < P * P; k++) H[k] /= data.n;
  for (let k = 0; k < P; k++) H[k * P + k] += l2;
  return H;
}

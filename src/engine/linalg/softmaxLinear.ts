/**
 * The linear softmax head's heavy passes as matrix products over blocks of rows: the same quantities as
 * model/linearHead.ts (theta = [W | b], C x (D+1) row-major; R = mean_i CE_i + (l2/2)|theta|^2), computed with
 * gemm.ts instead of row-at-a-time loops. Kept here, next to the kernels, so the head can switch to them call by call;
 * test/unit/linalg.test.ts checks each against linearHead.ts.
 *
 * Per block of rows Xb (B x D):  Z = Xb W^T + b,  P = softmax(Z),  grad_W += (P - Y)^T Xb,  and for a direction V:
 * U = Xb V_W^T + v_b,  A = P o (U - rowsum(P o U)),  Hv_W += A^T Xb. The dense Hessian's block (c, c2) is
 * sum_i (delta_cc2 p_ic - p_ic p_ic2) x~_i x~_i^T = Yc^T (X~ - Yc) on the diagonal and -Yc^T Yc2 off it, Yc = diag(p_c) X~.
 */
import { gemm } from './gemm';

export interface SoftmaxLinearProblem {
  classes: number;
  /** D, without the bias column. */
  dim: number;
  /** n x D, row-major. */
  X: Float64Array;
  y: Int32Array;
  n: number;
  l2: number;
  /**
   * Row weights (each row standing for w_i identical rows, see LinearHead's merged copies): R = sum_i w_i CE_i /
   * sum_i w_i + (l2/2)|theta|^2. Absent: every weight 1.
   */
  w?: Float64Array;
}

/** The normalizer of the data term: n, or the sum of the weights. */
function totalWeight(pr: SoftmaxLinearProblem): number {
  if (!pr.w) return pr.n;
  let t = 0;
  for (let i = 0; i < pr.n; i++) t += pr.w[i];
  return t;
}

/** Rows per block so that a block of `width` numbers per row stays around `budget` numbers (at most 8192 rows). */
function blockRows(width: number, budget = 1 << 21): number {
  return Math.max(64, Math.min(8192, Math.floor(budget / Math.max(1, width))));
}

/**
 * Softmax probabilities of the `rows` rows of X starting at element xOff (D columns, contiguous) into
 * P[pOff ..] (rows x C): one product Z = Xb W^T, then bias, max-shift and normalization per row.
 */
export function softmaxProbabilities(
  theta: Float64Array,
  C: number,
  D: number,
  X: Float64Array,
  xOff: number,
  rows: number,
  P: Float64Array,
  pOff = 0,
): void {
  const D1 = D + 1;
  gemm(false, true, rows, C, D, 1, X, xOff, D, theta, 0, D1, 0, P, pOff, C);
  for (let i = 0; i < rows; i++) {
    const o = pOff + i * C;
    let max = -Infinity;
    for (let c = 0; c < C; c++) {
      const z = (P[o + c] += theta[c * D1 + D]);
      if (z > max) max = z;
    }
    let sum = 0;
    for (let c = 0; c < C; c++) sum += P[o + c] = Math.exp(P[o + c] - max);
    for (let c = 0; c < C; c++) P[o + c] /= sum;
  }
}

/** Softmax probabilities of rows [r0, r0 + rows) into P (rows x C); returns their summed cross-entropy. */
function probabilitiesBlock(
  pr: SoftmaxLinearProblem,
  theta: Float64Array,
  r0: number,
  rows: number,
  P: Float64Array,
): number {
  const { classes: C, dim: D, X, y, w } = pr;
  softmaxProbabilities(theta, C, D, X, r0 * D, rows, P);
  let loss = 0;
  if (w) for (let i = 0; i < rows; i++) loss -= w[r0 + i] * Math.log(Math.max(P[i * C + y[r0 + i]], 1e-300));
  else for (let i = 0; i < rows; i++) loss -= Math.log(Math.max(P[i * C + y[r0 + i]], 1e-300));
  return loss;
}

/**
 * Objective value and gradient (length C(D+1)). With keep, also returns the n x C probabilities, which the
 * Hessian-vector products at the same theta (a Newton-CG step) can reuse instead of recomputing.
 */
export function softmaxObjective(
  pr: SoftmaxLinearProblem,
  theta: Float64Array,
  keep = false,
): { value: number; grad: Float64Array; probs?: Float64Array } {
  const { classes: C, dim: D, X, y, n, l2, w } = pr;
  const D1 = D + 1;
  const N = totalWeight(pr);
  const grad = new Float64Array(C * D1);
  const B = blockRows(Math.max(C, D));
  const probs = keep ? new Float64Array(n * C) : undefined;
  const Pbuf = keep ? undefined : new Float64Array(Math.min(B, n) * C);
  const Rbuf = keep ? new Float64Array(Math.min(B, n) * C) : undefined;
  const gb = new Float64Array(C); // grad_b, summed contiguously (the bias column of grad is strided)
  let loss = 0;
  for (let r0 = 0; r0 < n; r0 += B) {
    const rows = Math.min(B, n - r0);
    const P = probs ? probs.subarray(r0 * C, (r0 + rows) * C) : Pbuf!;
    loss += probabilitiesBlock(pr, theta, r0, rows, P);
    // Residuals R = P - Y (in a copy when P is kept), then grad_W += R^T Xb, grad_b += colsum(R).
    let R = P;
    if (Rbuf) {
      R = Rbuf.subarray(0, rows * C);
      R.set(P);
    }
    for (let i = 0; i < rows; i++) R[i * C + y[r0 + i]] -= 1;
    if (w)
      for (let i = 0; i < rows; i++) {
        const wi = w[r0 + i];
        for (let c = 0; c < C; c++) R[i * C + c] *= wi;
      }
    gemm(true, false, C, D, rows, 1, R, 0, C, X, r0 * D, D, 1, grad, 0, D1);
    for (let i = 0; i < rows; i++) {
      const o = i * C;
      for (let c = 0; c < C; c++) gb[c] += R[o + c];
    }
  }
  for (let c = 0; c < C; c++) grad[c * D1 + D] = gb[c];
  let reg = 0;
  for (let k = 0; k < grad.length; k++) {
    grad[k] = grad[k] / N + l2 * theta[k];
    reg += theta[k] * theta[k];
  }
  return { value: loss / N + 0.5 * l2 * reg, grad, probs };
}

/** Hessian-vector product H v at theta (closed form); probs: the n x C probabilities at theta, if kept. */
export function softmaxHvp(
  pr: SoftmaxLinearProblem,
  theta: Float64Array,
  v: Float64Array,
  probs?: Float64Array,
): Float64Array {
  const { classes: C, dim: D, X, n, l2, w } = pr;
  const D1 = D + 1;
  const N = totalWeight(pr);
  const out = new Float64Array(C * D1);
  const B = blockRows(Math.max(C, D));
  const U = new Float64Array(Math.min(B, n) * C);
  const Pbuf = probs ? undefined : new Float64Array(Math.min(B, n) * C);
  // The bias parts, contiguous: v_b and (H v)_b before scaling.
  const vb = new Float64Array(C);
  for (let c = 0; c < C; c++) vb[c] = v[c * D1 + D];
  const ob = new Float64Array(C);
  for (let r0 = 0; r0 < n; r0 += B) {
    const rows = Math.min(B, n - r0);
    let P: Float64Array;
    if (probs) P = probs.subarray(r0 * C, (r0 + rows) * C);
    else {
      P = Pbuf!;
      probabilitiesBlock(pr, theta, r0, rows, P);
    }
    gemm(false, true, rows, C, D, 1, X, r0 * D, D, v, 0, D1, 0, U, 0, C);
    for (let i = 0; i < rows; i++) {
      const o = i * C;
      let pu = 0;
      for (let c = 0; c < C; c++) pu += P[o + c] * (U[o + c] += vb[c]);
      const wi = w ? w[r0 + i] : 1;
      for (let c = 0; c < C; c++) {
        const a = wi * P[o + c] * (U[o + c] - pu);
        U[o + c] = a;
        ob[c] += a;
      }
    }
    gemm(true, false, C, D, rows, 1, U, 0, C, X, r0 * D, D, 1, out, 0, D1);
  }
  for (let c = 0; c < C; c++) out[c * D1 + D] = ob[c];
  for (let k = 0; k < out.length; k++) out[k] = out[k] / N + l2 * v[k];
  return out;
}

/**
 * Dense Hessian of R at theta, P x P row-major with P = C(D+1), exact:
 * H = (1/n) sum_i (diag(p_i) - p_i p_i^T) (x) x~_i x~_i^T + l2 I. Per block of B rows, with Y = [diag(p_c) X~]_c
 * (B x P, held transposed so every operand below is a contiguous block): H -= Y^T Y over the lower triangle (a few
 * column strips, so each product is large and only ~9/16 of the square is computed), and H_cc += Y_c^T X~. Then the
 * lower triangle is mirrored.
 */
export function softmaxDenseHessian(pr: SoftmaxLinearProblem, theta: Float64Array): Float64Array {
  const { classes: C, dim: D, X, n, l2, w } = pr;
  const D1 = D + 1;
  const NP = C * D1;
  const H = new Float64Array(NP * NP);
  const B = blockRows(NP, 1 << 23); // Y: 64 MB; longer blocks make the products more efficient
  const rowsMax = Math.min(B, n);
  const P = new Float64Array(rowsMax * C);
  const Xt = new Float64Array(rowsMax * D1); // augmented block [Xb, 1], B x D1
  const XtT = new Float64Array(D1 * rowsMax); // its transpose
  const PT = new Float64Array(C * rowsMax);
  const YT = new Float64Array(NP * rowsMax); // YT[c D1 + j, i] = p_ic x~_ij
  // Column strips of at least 512: eight of them for a large P compute 9/16 of the square instead of 5/8 for four.
  const strip = Math.min(NP, Math.max(512, Math.ceil(NP / 8)));
  for (let r0 = 0; r0 < n; r0 += B) {
    const rows = Math.min(B, n - r0);
    probabilitiesBlock(pr, theta, r0, rows, P);
    for (let i = 0; i < rows; i++) {
      const xi = (r0 + i) * D;
      // Weighted rows: x~ scaled by sqrt(w), so that both products below carry w once.
      const sw = w ? Math.sqrt(w[r0 + i]) : 1;
      for (let j = 0; j < D; j++) {
        const x = w ? X[xi + j] * sw : X[xi + j];
        Xt[i * D1 + j] = x;
        XtT[j * rows + i] = x;
      }
      Xt[i * D1 + D] = sw;
      XtT[D * rows + i] = sw;
      for (let c = 0; c < C; c++) PT[c * rows + i] = P[i * C + c];
    }
    for (let c = 0; c < C; c++)
      for (let j = 0; j < D1; j++) {
        const y = (c * D1 + j) * rows;
        const pc = c * rows;
        const xj = j * rows;
        for (let i = 0; i < rows; i++) YT[y + i] = PT[pc + i] * XtT[xj + i];
      }
    // H[s0:, s0:s1] -= Y[:, s0:]^T Y[:, s0:s1]
    for (let s0 = 0; s0 < NP; s0 += strip) {
      const w = Math.min(strip, NP - s0);
      gemm(
        false,
        true,
        NP - s0,
        w,
        rows,
        -1,
        YT,
        s0 * rows,
        rows,
        YT,
        s0 * rows,
        rows,
        1,
        H,
        s0 * NP + s0,
        NP,
      );
    }
    // H_cc += Y_c^T X~
    for (let c = 0; c < C; c++)
      gemm(false, false, D1, D1, rows, 1, YT, c * D1 * rows, rows, Xt, 0, D1, 1, H, c * D1 * (NP + 1), NP);
  }
  const inv = 1 / totalWeight(pr);
  for (let r = 0; r < NP; r++) {
    const row = r * NP;
    for (let s = 0; s < r; s++) H[s * NP + r] = H[row + s] *= inv;
    H[row + r] = H[row + r] * inv + l2;
  }
  return H;
}

/** A = X~^T X~ / n ((D+1) x (D+1), X~ = [X, 1]): the input factor of K-FAC, which does not depend on theta. */
export function inputSecondMoment(X: Float64Array, n: number, D: number): Float64Array {
  const D1 = D + 1;
  const A = new Float64Array(D1 * D1);
  const B = blockRows(D);
  const colX = new Float64Array(D);
  for (let r0 = 0; r0 < n; r0 += B) {
    const rows = Math.min(B, n - r0);
    gemm(true, false, D, D, rows, 1, X, r0 * D, D, X, r0 * D, D, 1, A, 0, D1);
    for (let i = 0; i < rows; i++) {
      const x = (r0 + i) * D;
      for (let j = 0; j < D; j++) colX[j] += X[x + j];
    }
  }
  for (let j = 0; j < D; j++) A[j * D1 + D] = A[D * D1 + j] = colX[j];
  A[D * D1 + D] = n;
  for (let k = 0; k < A.length; k++) A[k] /= n;
  return A;
}

/**
 * K-FAC factors of the head's one layer at theta: A = X~^T X~ / n ((D+1) x (D+1), X~ = [X, 1]) and
 * S = (diag(sum_i p_i) - P^T P) / n (C x C), the mean of the rows' softmax curvatures diag(p_i) - p_i p_i^T.
 */
export function softmaxKroneckerFactors(
  pr: SoftmaxLinearProblem,
  theta: Float64Array,
): { A: Float64Array; S: Float64Array } {
  const { classes: C, dim: D, X, n } = pr;
  const S = new Float64Array(C * C);
  const B = blockRows(Math.max(C, D));
  const P = new Float64Array(Math.min(B, n) * C);
  const colP = new Float64Array(C);
  for (let r0 = 0; r0 < n; r0 += B) {
    const rows = Math.min(B, n - r0);
    softmaxProbabilities(theta, C, D, X, r0 * D, rows, P);
    gemm(true, false, C, C, rows, -1, P, 0, C, P, 0, C, 1, S, 0, C);
    for (let i = 0; i < rows; i++) {
      const o = i * C;
      for (let c = 0; c < C; c++) colP[c] += P[o + c];
    }
  }
  for (let c = 0; c < C; c++) S[c * C + c] += colP[c];
  for (let k = 0; k < S.length; k++) S[k] /= n;
  return { A: inputSecondMoment(X, n, D), S };
}

/**
 * EK-FAC's refitted eigenvalues: the exact diagonal of the data part of the Hessian in the basis QS (x) QA
 * (eigenvectors as columns; QS C x C, QA (D+1) x (D+1)), as C x (D+1):
 * lambda[k, l] = (1/n) sum_i (q_k^T (diag p_i - p_i p_i^T) q_k) (a_l^T x~_i)^2. Per block of rows, with
 * Qa = P (QS o QS) - (P QS)^2 (rows x C) and SX = X~ QA (rows x (D+1)): lambda += Qa^T (SX o SX).
 */
export function softmaxKroneckerDiagonal(
  pr: SoftmaxLinearProblem,
  theta: Float64Array,
  QS: Float64Array,
  QA: Float64Array,
): Float64Array {
  const { classes: C, dim: D, X, n } = pr;
  const D1 = D + 1;
  const lambda = new Float64Array(C * D1);
  const QS2 = QS.map((q) => q * q);
  const B = blockRows(3 * C + D1);
  const rowsMax = Math.min(B, n);
  const P = new Float64Array(rowsMax * C);
  const PQ = new Float64Array(rowsMax * C);
  const Qa = new Float64Array(rowsMax * C);
  const SX = new Float64Array(rowsMax * D1);
  const bias = QA.subarray(D * D1, D1 * D1); // row D of QA: what the constant input 1 contributes
  for (let r0 = 0; r0 < n; r0 += B) {
    const rows = Math.min(B, n - r0);
    softmaxProbabilities(theta, C, D, X, r0 * D, rows, P);
    gemm(false, false, rows, C, C, 1, P, 0, C, QS, 0, C, 0, PQ, 0, C);
    gemm(false, false, rows, C, C, 1, P, 0, C, QS2, 0, C, 0, Qa, 0, C);
    for (let k = 0; k < rows * C; k++) Qa[k] -= PQ[k] * PQ[k];
    gemm(false, false, rows, D1, D, 1, X, r0 * D, D, QA, 0, D1, 0, SX, 0, D1);
    for (let i = 0; i < rows; i++) {
      const o = i * D1;
      for (let l = 0; l < D1; l++) {
        const s = SX[o + l] + bias[l];
        SX[o + l] = s * s;
      }
    }
    gemm(true, false, C, D1, rows, 1, Qa, 0, C, SX, 0, D1, 1, lambda, 0, D1);
  }
  for (let k = 0; k < lambda.length; k++) lambda[k] /= n;
  return lambda;
}

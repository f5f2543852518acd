/**
 * Cholesky factorization and triangular solves with many right-hand sides, on row-major Float64Arrays.
 *
 * Recursive (Gustavson's scheme): a block splits in halves and the off-diagonal work is one large gemm per level,
 * so nearly all of the O(n^3) work runs in gemm.ts (onnxruntime's float64 Gemm when it loads) and the copies its
 * strided operands need are O(n^2) per level. Leaves of at most LEAF columns run in plain loops.
 */
import { gemm } from './gemm';

const LEAF = 64;
const SYRK_LEAF = 512;

/** Split point of an n-wide block: a multiple of LEAF near the middle, so leaves stay LEAF wide. */
function split(n: number): number {
  return Math.max(LEAF, Math.round(n / 2 / LEAF) * LEAF);
}

/**
 * Cholesky A = L L^T of an n x n SPD matrix (only its lower triangle is read). Returns a new L with the upper
 * triangle zeroed, or, with inPlace, overwrites A with it. Throws naming the first pivot that is not positive.
 */
export function choleskyBlocked(A: Float64Array, n: number, inPlace = false): Float64Array {
  const L = inPlace ? A : A.slice(0, n * n);
  for (let i = 0; i < n; i++) L.fill(0, i * n + i + 1, (i + 1) * n);
  cholRec(L, 0, n, n, 0);
  return L;
}

/** Factors in place the n x n block at off (row stride ld); base is its first row in the whole matrix (messages). */
function cholRec(L: Float64Array, off: number, ld: number, n: number, base: number): void {
  if (n <= LEAF) {
    cholLeaf(L, off, ld, n, base);
    return;
  }
  const n1 = split(n);
  const n2 = n - n1;
  cholRec(L, off, ld, n1, base);
  const off21 = off + n1 * ld;
  trsmRightLT(L, off, ld, n1, L, off21, ld, n2); // L21 = A21 L11^-T
  const off22 = off21 + n1;
  syrkLower(L, off21, ld, n2, n1, off22); // A22 -= L21 L21^T
  for (let i = 0; i < n2; i++) L.fill(0, off22 + i * ld + i + 1, off22 + i * ld + n2); // gemm wrote the upper part
  cholRec(L, off22, ld, n2, base + n1);
}

function cholLeaf(L: Float64Array, off: number, ld: number, n: number, base: number): void {
  for (let j = 0; j < n; j++) {
    const rj = off + j * ld;
    let d = L[rj + j];
    for (let k = 0; k < j; k++) d -= L[rj + k] * L[rj + k];
    if (!(d > 0))
      throw new Error(`Hessian is not positive definite (pivot ${base + j} = ${d}); increase --l2`);
    const ljj = Math.sqrt(d);
    L[rj + j] = ljj;
    const inv = 1 / ljj;
    for (let i = j + 1; i < n; i++) {
      const ri = off + i * ld;
      let s = L[ri + j];
      for (let k = 0; k < j; k++) s -= L[ri + k] * L[rj + k];
      L[ri + j] = s * inv;
    }
  }
}

/**
 * C -= A A^T on (at least) the lower triangle of the n x n block C at cOff, A the n x k block at aOff (both row
 * stride ld): recursive halving, so only about half of the square is computed; blocks up to SYRK_LEAF are one gemm.
 */
function syrkLower(L: Float64Array, aOff: number, ld: number, n: number, k: number, cOff: number): void {
  if (n <= SYRK_LEAF) {
    gemm(false, true, n, n, k, -1, L, aOff, ld, L, aOff, ld, 1, L, cOff, ld);
    return;
  }
  const h = split(n);
  syrkLower(L, aOff, ld, h, k, cOff);
  gemm(false, true, n - h, h, k, -1, L, aOff + h * ld, ld, L, aOff, ld, 1, L, cOff + h * ld, ld);
  syrkLower(L, aOff + h * ld, ld, n - h, k, cOff + h * ld + h);
}

/**
 * Y := Y L^-T for Y r x n (row stride ldy) and L n x n lower (row stride ldl): each row y becomes L^-1 y
 * (forward substitution, r right-hand sides at once).
 */
export function trsmRightLT(
  L: Float64Array,
  lOff: number,
  ldl: number,
  n: number,
  Y: Float64Array,
  yOff: number,
  ldy: number,
  r: number,
): void {
  if (r <= 0 || n <= 0) return;
  if (n <= LEAF) {
    for (let i = 0; i < r; i++) {
      const yi = yOff + i * ldy;
      for (let j = 0; j < n; j++) {
        const lj = lOff + j * ldl;
        let s = Y[yi + j];
        for (let k = 0; k < j; k++) s -= Y[yi + k] * L[lj + k];
        Y[yi + j] = s / L[lj + j];
      }
    }
    return;
  }
  const n1 = split(n);
  const n2 = n - n1;
  trsmRightLT(L, lOff, ldl, n1, Y, yOff, ldy, r);
  // Y2 -= X1 L21^T
  gemm(false, true, r, n2, n1, -1, Y, yOff, ldy, L, lOff + n1 * ldl, ldl, 1, Y, yOff + n1, ldy);
  trsmRightLT(L, lOff + n1 * ldl + n1, ldl, n2, Y, yOff + n1, ldy, r);
}

/** Y := Y L^-1 for Y r x n and L n x n lower: each row y becomes L^-T y (back substitution, r right-hand sides). */
export function trsmRightL(
  L: Float64Array,
  lOff: number,
  ldl: number,
  n: number,
  Y: Float64Array,
  yOff: number,
  ldy: number,
  r: number,
): void {
  if (r <= 0 || n <= 0) return;
  if (n <= LEAF) {
    for (let i = 0; i < r; i++) {
      const yi = yOff + i * ldy;
      for (let j = n - 1; j >= 0; j--) {
        const lj = lOff + j * ldl;
        const xj = (Y[yi + j] /= L[lj + j]);
        if (xj !== 0) for (let k = 0; k < j; k++) Y[yi + k] -= xj * L[lj + k];
      }
    }
    return;
  }
  const n1 = split(n);
  const n2 = n - n1;
  trsmRightL(L, lOff + n1 * ldl + n1, ldl, n2, Y, yOff + n1, ldy, r);
  // Y1 -= X2 L21
  gemm(false, false, r, n1, n2, -1, Y, yOff + n1, ldy, L, lOff + n1 * ldl, ldl, 1, Y, yOff, ldy);
  trsmRightL(L, lOff, ldl, n1, Y, yOff, ldy, r);
}

/** Rows y_i := L^-1 y_i for the r rows of Y (r x n, contiguous unless ldy says otherwise), in place. */
export function forwardSolveRows(
  L: Float64Array,
  n: number,
  Y: Float64Array,
  r: number,
  ldy = n,
  yOff = 0,
): void {
  trsmRightLT(L, 0, n, n, Y, yOff, ldy, r);
}

/** Rows y_i := L^-T y_i for the r rows of Y, in place. */
export function backSolveRows(
  L: Float64Array,
  n: number,
  Y: Float64Array,
  r: number,
  ldy = n,
  yOff = 0,
): void {
  trsmRightL(L, 0, n, n, Y, yOff, ldy, r);
}

/** Rows x_i = (L L^T)^-1 b_i for the r rows of B (r x n); a new r x n array. */
export function cholSolveRows(L: Float64Array, n: number, B: Float64Array, r: number): Float64Array {
  const Y = B.slice(0, r * n);
  forwardSolveRows(L, n, Y, r);
  backSolveRows(L, n, Y, r);
  return Y;
}

/**
 * Quadratic forms g_i^T (L L^T)^-1 g_i = |L^-1 g_i|^2 for the r rows of G (r x n; overwritten with L^-1 g_i when
 * inPlace, else not modified): a block of per-row gradients scored at once, r n^2 / 2 multiply-adds, nearly all of
 * them in gemm.
 */
export function quadFormsRows(
  L: Float64Array,
  n: number,
  G: Float64Array,
  r: number,
  inPlace = false,
): Float64Array {
  const Y = inPlace ? G : G.slice(0, r * n);
  forwardSolveRows(L, n, Y, r);
  const out = new Float64Array(r);
  for (let i = 0; i < r; i++) {
    let s = 0;
    for (let j = i * n, e = j + n; j < e; j++) s += Y[j] * Y[j];
    out[i] = s;
  }
  return out;
}

/**
 * In place: the lower-triangular n x n matrix L (row-major, upper triangle zero) becomes W = L^-1 (LAPACK dtrtri,
 * recursive): inv([[L11, 0], [L21, L22]]) = [[W11, 0], [-W22 (L21 W11), W22]], the off-diagonal block two gemm
 * calls per level (n^3 / 3 multiply-adds in all). With W, a block of quadratic forms |W g|^2 is one product per
 * column strip (lowerQuadFormsRows) instead of a recursive triangular solve whose leaves run in plain loops.
 */
export function invertLowerInPlace(L: Float64Array, n: number): void {
  invRec(L, 0, n, n);
}

function invRec(L: Float64Array, off: number, ld: number, n: number): void {
  if (n <= LEAF) {
    invLeaf(L, off, ld, n);
    return;
  }
  const n1 = split(n);
  const n2 = n - n1;
  const off21 = off + n1 * ld;
  invRec(L, off, ld, n1);
  const T = new Float64Array(n2 * n1);
  gemm(false, false, n2, n1, n1, 1, L, off21, ld, L, off, ld, 0, T, 0, n1); // T = L21 W11
  invRec(L, off21 + n1, ld, n2);
  gemm(false, false, n2, n1, n2, -1, L, off21 + n1, ld, T, 0, n1, 0, L, off21, ld); // W21 = -W22 T
}

/** Inverts the n x n lower block at off (n <= LEAF) by forward substitution on the identity's columns. */
function invLeaf(L: Float64Array, off: number, ld: number, n: number): void {
  const W = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    W[j * n + j] = 1 / L[off + j * ld + j];
    for (let i = j + 1; i < n; i++) {
      const li = off + i * ld;
      let s = 0;
      for (let k = j; k < i; k++) s += L[li + k] * W[k * n + j];
      W[i * n + j] = -s / L[li + i];
    }
  }
  for (let i = 0; i < n; i++) L.set(W.subarray(i * n, i * n + i + 1), off + i * ld);
}

/**
 * |W g_i|^2 for the r rows g_i of G (r x n, not modified), W = L^-1 lower triangular n x n: Y = G W^T in column
 * strips, strip [j0, j1) one product over columns 0..j1 of G (the rest of W's rows is zero), then its squares summed
 * per row. r n^2 / 2 multiply-adds in products of r x strip x j1.
 */
export function lowerQuadFormsRows(
  W: Float64Array,
  n: number,
  G: Float64Array,
  r: number,
  strip = 512,
): Float64Array {
  const out = new Float64Array(r);
  const w0 = Math.min(strip, n);
  const T = new Float64Array(r * w0);
  for (let j0 = 0; j0 < n; j0 += strip) {
    const w = Math.min(strip, n - j0);
    gemm(false, true, r, w, j0 + w, 1, G, 0, n, W, j0 * n, n, 0, T, 0, w);
    for (let i = 0; i < r; i++) {
      let s = 0;
      for (let k = i * w, e = k + w; k < e; k++) s += T[k] * T[k];
      out[i] += s;
    }
  }
  return out;
}

/** x = W^T (W v) = (L L^T)^-1 v for W = L^-1 (lower, n x n, row-major), two passes over W's rows. */
export function lowerInverseSolve(W: Float64Array, n: number, v: ArrayLike<number>): Float64Array {
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const row = i * n;
    let s = 0;
    for (let k = 0; k <= i; k++) s += W[row + k] * v[k];
    y[i] = s;
  }
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const row = i * n;
    const yi = y[i];
    if (yi !== 0) for (let k = 0; k <= i; k++) x[k] += W[row + k] * yi;
  }
  return x;
}

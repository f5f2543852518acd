/**
 * Dense linear algebra on row-major Float64Arrays: the small, stable entry points the solvers call. The O(n^3)
 * work goes to the blocked kernels next to this file (gemm.ts: onnxruntime's float64 Gemm when it loads, a
 * register-blocked JS kernel otherwise; cholesky.ts; eigen.ts), see scripts/bench-linalg.mjs for their speeds.
 */
import { choleskyBlocked } from './cholesky';
import { symmetricEigenDC } from './eigen';

/** Cholesky factorization A = L L^T of an n x n SPD matrix (lower triangle read); returns L (upper zeroed). */
export function cholesky(A: Float64Array, n: number): Float64Array {
  return choleskyBlocked(A, n);
}

/** Solve L y = b (forward substitution), L lower-triangular n x n. */
export function forwardSolve(L: Float64Array, n: number, b: ArrayLike<number>): Float64Array {
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i];
    const Li = i * n;
    for (let k = 0; k < i; k++) s -= L[Li + k] * y[k];
    y[i] = s / L[Li + i];
  }
  return y;
}

/** Solve L^T x = y (back substitution), walking L by rows so every access is contiguous. */
export function backSolve(L: Float64Array, n: number, y: ArrayLike<number>): Float64Array {
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) x[i] = y[i];
  for (let i = n - 1; i >= 0; i--) {
    const Li = i * n;
    const xi = (x[i] /= L[Li + i]);
    if (xi !== 0) for (let k = 0; k < i; k++) x[k] -= xi * L[Li + k];
  }
  return x;
}

/** Solve (L L^T) x = b. */
export function cholSolve(L: Float64Array, n: number, b: ArrayLike<number>): Float64Array {
  return backSolve(L, n, forwardSolve(L, n, b));
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/**
 * Symmetric eigendecomposition A = V diag(w) V^T (Householder tridiagonalization + divide and conquer, eigen.ts).
 * Returns the eigenvalues ascending and the eigenvectors as columns of V (row-major n x n).
 */
export function symmetricEigen(A: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  return symmetricEigenDC(A, n);
}

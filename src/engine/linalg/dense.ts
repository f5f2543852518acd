/**
 * Small dense linear algebra on row-major Float64Arrays. The heads here have at most a few thousand parameters,
 * so plain loops are fast enough and keep the engine dependency-free and exactly testable.
 */

/** In-place Cholesky factorization A = L L^T of an n x n SPD matrix; returns L (lower triangle, upper zeroed). */
export function cholesky(A: Float64Array, n: number): Float64Array {
  const L = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let d = A[j * n + j];
    const Lj = j * n;
    for (let k = 0; k < j; k++) d -= L[Lj + k] * L[Lj + k];
    if (!(d > 0)) throw new Error(`Hessian is not positive definite (pivot ${j} = ${d}); increase --l2`);
    const ljj = Math.sqrt(d);
    L[Lj + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      const Li = i * n;
      let s = A[Li + j];
      for (let k = 0; k < j; k++) s -= L[Li + k] * L[Lj + k];
      L[Li + j] = s / ljj;
    }
  }
  return L;
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

/** Solve L^T x = y (back substitution). */
export function backSolve(L: Float64Array, n: number, y: ArrayLike<number>): Float64Array {
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i];
    for (let k = i + 1; k < n; k++) s -= L[k * n + i] * x[k];
    x[i] = s / L[i * n + i];
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
 * Symmetric eigendecomposition by cyclic Jacobi rotations: A = V diag(w) V^T. O(n^3) per sweep; used for the
 * Kronecker factors of the scalable solver (a few hundred wide at most).
 * Returns eigenvectors as columns of V (row-major n x n).
 */
export function symmetricEigen(A: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(A);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let diag = 0;
    for (let i = 0; i < n; i++) {
      diag += a[i * n + i] * a[i * n + i];
      for (let j = i + 1; j < n; j++) off += a[i * n + j] * a[i * n + j];
    }
    if (off <= 1e-30 * diag || off === 0) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (Math.abs(apq) < 1e-300) continue;
        const app = a[p * n + p];
        const aqq = a[q * n + q];
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p];
          const akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k];
          const aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p];
          const vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = a[i * n + i];
  return { values, vectors: v };
}

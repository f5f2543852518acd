/**
 * Eigendecomposition of a symmetric tridiagonal matrix by divide and conquer (Cuppen 1981, with the deflation of
 * Dongarra-Sorensen and the Gu-Eisenstat recomputation of z that keeps the eigenvectors orthogonal: LAPACK's
 * dstedc/dlaed*). Each merge's eigenvector update is one matrix product (gemm.ts), so the O(n^3) work runs there
 * instead of in the ~3 n^3 scalar rotations of QL; small blocks fall back to QL (qlSmall).
 *
 * Layout: eigenvectors are the ROWS of the returned m x m matrix.
 */
import { gemm } from './gemm';

const EPS = 2 ** -52;
/** Blocks up to this size are solved by QL directly. */
const SMALL = 48;

export interface TridiagonalEigen {
  values: Float64Array;
  /** m x m, row k = eigenvector k. */
  rows: Float64Array;
}

/**
 * Eigenpairs of the unreduced symmetric tridiagonal block with diagonal d[0..m) and off-diagonal e[0..m-1)
 * (e[i] couples i and i+1). d and e are not modified. Eigenvalues are not sorted.
 */
export function tridiagonalEigenDC(d: Float64Array, e: Float64Array, m: number): TridiagonalEigen {
  if (m <= SMALL) return qlSmall(d, e, m);
  const n1 = m >> 1;
  const rho = e[n1 - 1];
  const beta = Math.abs(rho);
  const sigma = rho < 0 ? -1 : 1;
  // T = diag(T1', T2') + beta v v^T, v = [e_last; sigma e_first].
  const d1 = d.slice(0, n1);
  const d2 = d.slice(n1, m);
  d1[n1 - 1] -= beta;
  d2[0] -= beta;
  const left = tridiagonalEigenDC(d1, e.subarray(0, n1 - 1), n1);
  const right = tridiagonalEigenDC(d2, e.subarray(n1, m - 1), m - n1);
  return merge(left, right, n1, m, beta, sigma);
}

/** QL with implicit shifts (tql2) on a small block; eigenvectors as rows. */
function qlSmall(d0: Float64Array, e0: Float64Array, m: number): TridiagonalEigen {
  const d = d0.slice(0, m);
  const e = new Float64Array(m);
  e.set(e0.subarray(0, m - 1));
  const Z = new Float64Array(m * m);
  for (let i = 0; i < m; i++) Z[i * m + i] = 1;
  let norm = 0;
  for (let i = 0; i < m; i++)
    norm = Math.max(norm, Math.abs(d[i]) + Math.abs(e[i]) + (i > 0 ? Math.abs(e[i - 1]) : 0));
  qlRows(d, e, Z, m, 0, m - 1, norm);
  return { values: d, rows: Z };
}

/**
 * tql2 on the block [lo, hi] of (d, e), applying each rotation to rows i, i+1 of Z (row length ld), columns lo..hi.
 * Overwrites d with the eigenvalues; e is destroyed.
 */
function qlRows(
  d: Float64Array,
  e: Float64Array,
  Z: Float64Array,
  ld: number,
  lo: number,
  hi: number,
  norm: number,
): void {
  if (hi <= lo) return;
  e[hi] = 0;
  let f = 0;
  const tst1 = norm;
  for (let l = lo; l <= hi; l++) {
    let m = l;
    while (m < hi && Math.abs(e[m]) > EPS * tst1) m++;
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > 60) throw new Error('symmetric eigendecomposition (QL) did not converge');
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i <= hi; i++) d[i] -= h;
        f += h;
        p = d[m];
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1];
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = Math.hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          const ri = i * ld;
          const ri1 = ri + ld;
          for (let k = lo; k <= hi; k++) {
            const zk1 = Z[ri1 + k];
            const zk = Z[ri + k];
            Z[ri1 + k] = s * zk + c * zk1;
            Z[ri + k] = c * zk - s * zk1;
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > EPS * tst1);
    }
    d[l] += f;
    e[l] = 0;
  }
}

/**
 * Merges the halves: eigenpairs of Q diag(D) Q^T + beta v v^T with Q = diag(Q1, Q2), i.e. of D + rho' zhat zhat^T
 * in the children's eigenbasis (z = Q^T v, |z|^2 = 2, rho' = 2 beta, zhat = z / sqrt 2).
 */
function merge(
  left: TridiagonalEigen,
  right: TridiagonalEigen,
  n1: number,
  m: number,
  beta: number,
  sigma: number,
): TridiagonalEigen {
  const n2 = m - n1;
  // Rows of the children's eigenvectors, embedded in length m.
  const rows = new Float64Array(m * m);
  const dv = new Float64Array(m);
  const z = new Float64Array(m);
  const s2 = Math.SQRT1_2;
  for (let i = 0; i < n1; i++) {
    rows.set(left.rows.subarray(i * n1, (i + 1) * n1), i * m);
    dv[i] = left.values[i];
    z[i] = left.rows[i * n1 + n1 - 1] * s2;
  }
  for (let i = 0; i < n2; i++) {
    rows.set(right.rows.subarray(i * n2, (i + 1) * n2), (n1 + i) * m + n1);
    dv[n1 + i] = right.values[i];
    z[n1 + i] = sigma * right.rows[i * n2] * s2;
  }
  const rhoP = 2 * beta;
  // Sort by eigenvalue.
  const order = Array.from({ length: m }, (_, i) => i).sort((a, b) => dv[a] - dv[b]);
  let dmax = 0;
  for (let i = 0; i < m; i++) dmax = Math.max(dmax, Math.abs(dv[i]));
  const tol = 8 * EPS * Math.max(dmax, rhoP);
  const out = new Float64Array(m);
  const outRows = new Float64Array(m * m);
  let nOut = 0;
  const keep: number[] = []; // non-deflated, in ascending order of dv
  const deflate = (i: number) => {
    out[nOut] = dv[i];
    outRows.set(rows.subarray(i * m, (i + 1) * m), nOut * m);
    nOut++;
  };
  if (rhoP <= tol) {
    for (const i of order) deflate(i);
    return { values: out, rows: outRows };
  }
  for (const i of order) {
    if (rhoP * Math.abs(z[i]) <= tol) {
      deflate(i);
      continue;
    }
    if (keep.length > 0) {
      const j = keep[keep.length - 1];
      // Rotate rows j, i so z_j becomes 0 when d_j and d_i are close enough that the coupling is negligible.
      const zj = z[j];
      const zi = z[i];
      const tau = Math.hypot(zi, zj);
      const c = zi / tau;
      const s = -zj / tau;
      if (Math.abs((dv[i] - dv[j]) * c * s) <= tol) {
        z[i] = tau;
        z[j] = 0;
        const rj = j * m;
        const ri = i * m;
        for (let k = 0; k < m; k++) {
          const x = rows[rj + k];
          const y = rows[ri + k];
          rows[rj + k] = c * x + s * y;
          rows[ri + k] = c * y - s * x;
        }
        const t = dv[j] * c * c + dv[i] * s * s;
        dv[i] = dv[j] * s * s + dv[i] * c * c;
        dv[j] = t;
        keep.pop();
        deflate(j);
        // i takes j's place; keep the list ascending (the rotation moves d by at most tol-sized amounts).
        let pos = keep.length;
        while (pos > 0 && dv[keep[pos - 1]] > dv[i]) pos--;
        keep.splice(pos, 0, i);
        continue;
      }
    }
    keep.push(i);
  }
  const k = keep.length;
  if (k === 0) return { values: out, rows: outRows };
  // Secular equation 1 + rho' sum_j zhat_j^2 / (d_j - lambda) = 0 on the k kept entries.
  const dk = Float64Array.from(keep, (i) => dv[i]);
  const zk = Float64Array.from(keep, (i) => z[i]);
  let zz = 0;
  for (let j = 0; j < k; j++) zz += zk[j] * zk[j];
  const origin = new Int32Array(k);
  const mu = new Float64Array(k);
  const delta = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    const r = secularRoot(dk, zk, k, rhoP, zz, i, delta);
    origin[i] = r.origin;
    mu[i] = r.mu;
  }
  // Gu-Eisenstat: zhat from the computed roots, so the eigenvectors come out orthogonal.
  // zhat_j^2 = (lambda_j - d_j)/rho' prod_{i != j} (lambda_i - d_j)/(d_i - d_j); lambda_i - d_j = (d_o(i) - d_j) + mu_i.
  const zh = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    let prod = (dk[origin[j]] - dk[j] + mu[j]) / rhoP;
    for (let i = 0; i < k; i++) if (i !== j) prod *= (dk[origin[i]] - dk[j] + mu[i]) / (dk[i] - dk[j]);
    zh[j] = Math.sign(zk[j]) * Math.sqrt(Math.max(prod, 0));
  }
  // U (k x k): row i = normalized (zhat_j / (d_j - lambda_i))_j, the eigenvector in the kept basis.
  const U = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    const o = dk[origin[i]];
    let nrm = 0;
    for (let j = 0; j < k; j++) {
      const u = zh[j] / (dk[j] - o - mu[i]);
      U[i * k + j] = u;
      nrm += u * u;
    }
    const inv = 1 / Math.sqrt(nrm);
    for (let j = 0; j < k; j++) U[i * k + j] *= inv;
    out[nOut + i] = o + mu[i];
  }
  // New rows = U (kept rows): one k x k x m product.
  const K = new Float64Array(k * m);
  for (let j = 0; j < k; j++) K.set(rows.subarray(keep[j] * m, (keep[j] + 1) * m), j * m);
  gemm(false, false, k, m, k, 1, U, 0, k, K, 0, m, 0, outRows, nOut * m, m);
  return { values: out, rows: outRows };
}

/**
 * Root i of f(lambda) = 1 + rho sum_j z_j^2 / (d_j - lambda) (d ascending), in (d_i, d_i+1) or, for the last,
 * (d_k-1, d_k-1 + rho |z|^2]. Returned as origin + mu, origin the nearer pole, so that d_j - lambda is computed
 * as (d_j - d_origin) - mu without cancellation. Safeguarded Newton inside a bracket that always holds the root.
 */
function secularRoot(
  d: Float64Array,
  z: Float64Array,
  k: number,
  rho: number,
  zz: number,
  i: number,
  delta: Float64Array,
): { origin: number; mu: number } {
  let origin: number;
  let a: number;
  let b: number;
  if (i === k - 1) {
    origin = i;
    a = 0;
    b = rho * zz;
  } else {
    const gap = d[i + 1] - d[i];
    const mid = 0.5 * gap;
    // f at the midpoint, relative to d_i.
    let f = 1;
    for (let j = 0; j < k; j++) f += (rho * z[j] * z[j]) / (d[j] - d[i] - mid);
    if (f >= 0) {
      origin = i;
      a = 0;
      b = mid;
    } else {
      origin = i + 1;
      a = -mid;
      b = 0;
    }
  }
  const o = d[origin];
  for (let j = 0; j < k; j++) delta[j] = d[j] - o;
  // g(mu) = 1 + rho sum z_j^2 / (delta_j - mu) is increasing on (a, b); g(a+) < 0 < g(b-) (or the root is at b).
  let x = 0.5 * (a + b);
  for (let it = 0; it < 300; it++) {
    let g = 1;
    let dg = 0;
    let gabs = 1;
    for (let j = 0; j < k; j++) {
      const q = 1 / (delta[j] - x);
      const t = rho * z[j] * z[j] * q;
      g += t;
      gabs += Math.abs(t);
      dg += t * q;
    }
    if (g === 0 || Math.abs(g) <= EPS * gabs) break;
    if (g < 0) a = x;
    else b = x;
    if (b - a <= 2 * EPS * Math.max(Math.abs(a), Math.abs(b))) {
      x = 0.5 * (a + b);
      break;
    }
    // Newton while it behaves, bisection when it leaves the bracket or has not converged after 40 steps.
    let next = x - g / dg;
    if (it >= 40 || !(next > a && next < b)) next = 0.5 * (a + b);
    else if (Math.abs(next - x) <= EPS * Math.abs(x)) {
      x = next;
      break;
    }
    x = next;
  }
  return { origin, mu: x };
}

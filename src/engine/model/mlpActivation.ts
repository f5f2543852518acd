/**
 * Hidden-layer activations of the MLP head with their first and second derivatives, written out by hand (the exact
 * Hessian's R-operator needs phi''; tfjs double backprop is wrong for tanh, PLATFORM.md).
 */

export type ActivationName = 'tanh' | 'gelu';
export const ACTIVATIONS: readonly ActivationName[] = ['tanh', 'gelu'];

export interface Activation {
  readonly name: ActivationName;
  /** Writes phi(z), phi'(z), phi''(z) of every z[k] into value, d1, d2 (all the same length). */
  apply(z: Float64Array, value: Float64Array, d1: Float64Array, d2: Float64Array): void;
}

const tanh: Activation = {
  name: 'tanh',
  apply(z, value, d1, d2) {
    for (let k = 0; k < z.length; k++) {
      // tanh by one exp (Math.tanh is about twice as slow here; same value to 4e-16).
      const e = Math.exp(-2 * Math.abs(z[k]));
      const a = (1 - e) / (1 + e);
      const t = z[k] < 0 ? -a : a;
      const s = 1 - t * t;
      value[k] = t;
      d1[k] = s;
      d2[k] = -2 * t * s;
    }
  },
};

const INV_SQRT2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/**
 * Exact GELU, x Phi(x) with the normal CDF Phi by erf (not the tanh approximation):
 * phi' = Phi(x) + x N(x), phi'' = N(x) (2 - x^2), N the standard normal density.
 */
const gelu: Activation = {
  name: 'gelu',
  apply(z, value, d1, d2) {
    for (let k = 0; k < z.length; k++) {
      const x = z[k];
      const cdf = 0.5 * (1 + erf(x * INV_SQRT2));
      const pdf = INV_SQRT_2PI * Math.exp(-0.5 * x * x);
      value[k] = x * cdf;
      d1[k] = cdf + x * pdf;
      d2[k] = pdf * (2 - x * x);
    }
  },
};

export function activation(name: ActivationName): Activation {
  return name === 'gelu' ? gelu : tanh;
}

/**
 * The error function to full double precision (JavaScript has none). For |x| < 6 by the series
 * erf(x) = 2/sqrt(pi) e^{-x^2} sum_n 2^n x^{2n+1} / (1*3*...*(2n+1)), whose terms are all positive, so there is no
 * cancellation (about x^2 + 40 terms); beyond, |erf(x)| rounds to 1 (erfc(6) = 2e-17).
 */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax >= 6) return Math.sign(x);
  if (ax === 0) return x;
  const x2 = ax * ax;
  let term = ax;
  let sum = ax;
  for (let n = 1; n < 200; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
    if (term < 1e-17 * sum) break;
  }
  const r = (2 / Math.sqrt(Math.PI)) * Math.exp(-x2) * sum;
  return x < 0 ? -r : r;
}

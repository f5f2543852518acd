/**
 * Independent float64 forward pass of the tiny BERT test fixture (test/fixtures/tiny-bert, made by
 * scripts/make-tiny-bert.mjs), written from the BERT definition, not from the ONNX graph: it reads the weights from
 * weights.json + weights.bin (Hugging Face BertModel state-dict names, PyTorch layouts, Linear weight = [out, in]).
 *
 * Differences from the ONNX graph on purpose: float64 throughout, masked keys are left out of the softmax (instead of
 * an additive large negative), LayerNorm by two-pass mean/variance, erf by its own series / continued fraction.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const TINY_BERT_DIR = path.join(__dirname, '..', 'fixtures', 'tiny-bert');

export interface TinyBertConfig {
  hidden: number;
  layers: number;
  heads: number;
  intermediate: number;
  maxPosition: number;
  typeVocab: number;
  eps: number;
  vocabSize: number;
}

export interface TinyBertWeights {
  config: TinyBertConfig;
  /** Output names of the ONNX model, in graph order. */
  outputs: string[];
  tensors: Map<string, { shape: number[]; data: Float64Array }>;
}

interface Manifest {
  config: TinyBertConfig;
  outputs: string[];
  tensors: Array<{ name: string; shape: number[]; offset: number; length: number }>;
}

export function loadTinyBertWeights(dir = TINY_BERT_DIR): TinyBertWeights {
  const manifest = JSON.parse(readFileSync(path.join(dir, 'weights.json'), 'utf8')) as Manifest;
  const bin = readFileSync(path.join(dir, 'weights.bin'));
  const tensors = new Map<string, { shape: number[]; data: Float64Array }>();
  for (const t of manifest.tensors) {
    const data = new Float64Array(t.length);
    for (let i = 0; i < t.length; i++) data[i] = bin.readFloatLE(t.offset + 4 * i);
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.length) throw new Error(`${t.name}: shape ${t.shape} does not hold ${t.length} values`);
    tensors.set(t.name, { shape: t.shape, data });
  }
  return { config: manifest.config, outputs: manifest.outputs, tensors };
}

/** erf to ~1e-15: Maclaurin series for |x| < 2, else the continued fraction of erfc. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2) {
    // erf x = 2/sqrt(pi) * sum_n (-1)^n x^(2n+1) / (n! (2n+1))
    let term = ax;
    let sum = ax;
    for (let n = 1; n < 200; n++) {
      term *= (-ax * ax) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.sign(x) * ((2 / Math.sqrt(Math.PI)) * sum);
  }
  if (ax > 7) return Math.sign(x);
  // erfc x = exp(-x^2)/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...)))))
  let f = ax;
  for (let k = 80; k >= 1; k--) f = ax + k / 2 / f;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

export function gelu(x: number): number {
  return 0.5 * x * (1 + erf(x / Math.SQRT2));
}

/**
 * Runs the network on a padded batch. ids/mask/typeIds: [batch][seq] (same seq for every row; typeIds default 0).
 * Returns hidden states [layers + 1] (index 0 = embeddings after LayerNorm, k = output of layer k-1), each a
 * Float64Array of batch * seq * hidden values, row-major [batch, seq, hidden]. Padded positions are computed too
 * (their queries attend to the unmasked keys), as in the ONNX model.
 */
export function tinyBertForward(
  w: TinyBertWeights,
  ids: number[][],
  mask: number[][],
  typeIds?: number[][],
): Float64Array[] {
  const { hidden: H, layers: L, heads: NH, intermediate: I, eps } = w.config;
  const DH = H / NH;
  const B = ids.length;
  const S = ids[0]?.length ?? 0;
  const get = (name: string) => {
    const t = w.tensors.get(name);
    if (!t) throw new Error(`missing weight ${name}`);
    return t.data;
  };

  /** y = x W^T + b for each of n rows; W is [out, in]. */
  const linear = (x: Float64Array, n: number, inDim: number, prefix: string, outDim: number) => {
    const W = get(`${prefix}.weight`);
    const b = get(`${prefix}.bias`);
    const y = new Float64Array(n * outDim);
    for (let r = 0; r < n; r++)
      for (let o = 0; o < outDim; o++) {
        let s = b[o];
        for (let i = 0; i < inDim; i++) s += x[r * inDim + i] * W[o * inDim + i];
        y[r * outDim + o] = s;
      }
    return y;
  };
  const layerNorm = (x: Float64Array, n: number, prefix: string) => {
    const g = get(`${prefix}.weight`);
    const b = get(`${prefix}.bias`);
    const y = new Float64Array(n * H);
    for (let r = 0; r < n; r++) {
      let mean = 0;
      for (let i = 0; i < H; i++) mean += x[r * H + i];
      mean /= H;
      let v = 0;
      for (let i = 0; i < H; i++) v += (x[r * H + i] - mean) ** 2;
      v /= H;
      const inv = 1 / Math.sqrt(v + eps);
      for (let i = 0; i < H; i++) y[r * H + i] = (x[r * H + i] - mean) * inv * g[i] + b[i];
    }
    return y;
  };

  const N = B * S;
  const wordE = get('embeddings.word_embeddings.weight');
  const posE = get('embeddings.position_embeddings.weight');
  const typeE = get('embeddings.token_type_embeddings.weight');
  const e = new Float64Array(N * H);
  for (let bi = 0; bi < B; bi++)
    for (let s = 0; s < S; s++) {
      const id = ids[bi][s];
      const tt = typeIds?.[bi][s] ?? 0;
      if (id < 0 || id >= w.config.vocabSize) throw new Error(`token id ${id} out of range`);
      for (let i = 0; i < H; i++)
        e[(bi * S + s) * H + i] = wordE[id * H + i] + posE[s * H + i] + typeE[tt * H + i];
    }
  let h = layerNorm(e, N, 'embeddings.LayerNorm');
  const states = [h];

  for (let l = 0; l < L; l++) {
    const p = `encoder.layer.${l}`;
    const q = linear(h, N, H, `${p}.attention.self.query`, H);
    const k = linear(h, N, H, `${p}.attention.self.key`, H);
    const v = linear(h, N, H, `${p}.attention.self.value`, H);
    const ctx = new Float64Array(N * H);
    const scores = new Float64Array(S);
    for (let bi = 0; bi < B; bi++)
      for (let hd = 0; hd < NH; hd++)
        for (let qi = 0; qi < S; qi++) {
          const qo = (bi * S + qi) * H + hd * DH;
          let max = -Infinity;
          for (let ki = 0; ki < S; ki++) {
            if (!mask[bi][ki]) continue;
            const ko = (bi * S + ki) * H + hd * DH;
            let s = 0;
            for (let d = 0; d < DH; d++) s += q[qo + d] * k[ko + d];
            scores[ki] = s / Math.sqrt(DH);
            if (scores[ki] > max) max = scores[ki];
          }
          let z = 0;
          for (let ki = 0; ki < S; ki++) {
            if (!mask[bi][ki]) continue;
            scores[ki] = Math.exp(scores[ki] - max);
            z += scores[ki];
          }
          for (let ki = 0; ki < S; ki++) {
            if (!mask[bi][ki]) continue;
            const a = scores[ki] / z;
            const vo = (bi * S + ki) * H + hd * DH;
            for (let d = 0; d < DH; d++) ctx[qo + d] += a * v[vo + d];
          }
        }
    const attnOut = linear(ctx, N, H, `${p}.attention.output.dense`, H);
    for (let i = 0; i < N * H; i++) attnOut[i] += h[i];
    const a = layerNorm(attnOut, N, `${p}.attention.output.LayerNorm`);
    const inter = linear(a, N, H, `${p}.intermediate.dense`, I);
    for (let i = 0; i < inter.length; i++) inter[i] = gelu(inter[i]);
    const out = linear(inter, N, I, `${p}.output.dense`, H);
    for (let i = 0; i < N * H; i++) out[i] += a[i];
    h = layerNorm(out, N, `${p}.output.LayerNorm`);
    states.push(h);
  }
  return states;
}

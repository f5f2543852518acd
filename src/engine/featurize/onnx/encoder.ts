/**
 * Runs the ONNX encoder on token-id sequences: one session, reused; sequences sorted by length (longest first) and
 * grouped into batches under a row and a token budget, so that padding stays small; [PAD] positions get attention
 * mask 0 and are dropped from the output. Counts session runs and encoded rows (the cache tests and the bench read
 * them).
 */
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import type { OrtModule, OrtSession } from './runtime';

export interface EncoderOptions {
  padId: number;
  /** At most this many rows per session run. Default 32. */
  maxBatchRows?: number;
  /** At most this many (padded) tokens per session run. Default 8,192. */
  maxBatchTokens?: number;
  /** Keep every feed built (the bench replays them on the raw session). */
  recordFeeds?: boolean;
}

export interface EncoderStats {
  /** session.run calls. */
  runs: number;
  /** Sequences encoded. */
  rows: number;
  /** Real (unpadded) tokens encoded, and padded positions run. */
  tokens: number;
  paddedTokens: number;
  /** Seconds inside session.run. */
  runSeconds: number;
}

type Feeds = InferenceSession.FeedsType;

export class OnnxEncoder {
  readonly stats: EncoderStats = { runs: 0, rows: 0, tokens: 0, paddedTokens: 0, runSeconds: 0 };
  /** The feeds of every run, when recordFeeds is on. */
  readonly recorded: Feeds[] = [];
  private readonly maxRows: number;
  private readonly maxTokens: number;
  private readonly types = new Map<string, string>();

  constructor(
    private readonly ort: OrtModule,
    readonly session: OrtSession,
    readonly output: string,
    private readonly options: EncoderOptions,
  ) {
    this.maxRows = Math.max(1, options.maxBatchRows ?? 32);
    this.maxTokens = Math.max(1, options.maxBatchTokens ?? 8192);
    for (const m of session.inputMetadata) this.types.set(m.name, m.isTensor ? String(m.type) : 'int64');
    const missing = ['input_ids'].filter((n) => !session.inputNames.includes(n));
    if (missing.length)
      throw new Error(
        `the ONNX model has no input ${missing.join(', ')} (inputs: ${session.inputNames.join(', ')})`,
      );
  }

  /** Forgets the runs so far (stats and recorded feeds), e.g. a probe run that was not the rows' work. */
  resetStats(): void {
    Object.assign(this.stats, { runs: 0, rows: 0, tokens: 0, paddedTokens: 0, runSeconds: 0 });
    this.recorded.length = 0;
  }

  /** Hidden size from the output's static shape, if the export declares it. */
  declaredDim(): number | undefined {
    const m = this.session.outputMetadata.find((o) => o.name === this.output);
    const last = m && m.isTensor ? m.shape[m.shape.length - 1] : undefined;
    return typeof last === 'number' && last > 0 ? last : undefined;
  }

  /** Batches as lists of sequence indices: longest first, each under the row and token budgets. */
  plan(lengths: readonly number[]): number[][] {
    const order = lengths.map((_, i) => i).sort((a, b) => lengths[b] - lengths[a] || a - b);
    const batches: number[][] = [];
    let cur: number[] = [];
    for (const i of order) {
      // Sorted longest first, so the batch's padded length is its first sequence's length.
      const L = cur.length ? lengths[cur[0]] : lengths[i];
      if (cur.length && (cur.length >= this.maxRows || (cur.length + 1) * Math.max(L, 1) > this.maxTokens)) {
        batches.push(cur);
        cur = [];
      }
      cur.push(i);
    }
    if (cur.length) batches.push(cur);
    return batches;
  }

  private intTensor(name: string, values: Int32Array, dims: number[]): Tensor {
    const type = this.types.get(name) ?? 'int64';
    if (type === 'int32') return new this.ort.Tensor('int32', values, dims);
    // int64 without a BigInt per element: write the low words of a little-endian BigInt64Array (ids are >= 0).
    const big = new BigInt64Array(values.length);
    const words = new Int32Array(big.buffer);
    for (let k = 0; k < values.length; k++) words[2 * k] = values[k];
    return new this.ort.Tensor('int64', big, dims);
  }

  /** The padded feeds of one batch: input_ids, attention_mask, and token_type_ids / position_ids when asked for. */
  buildFeeds(seqs: readonly ArrayLike<number>[]): { feeds: Feeds; L: number } {
    const B = seqs.length;
    const L = Math.max(1, ...seqs.map((s) => s.length));
    const ids = new Int32Array(B * L).fill(this.options.padId);
    const mask = new Int32Array(B * L);
    for (let b = 0; b < B; b++) {
      const s = seqs[b];
      for (let t = 0; t < s.length; t++) {
        ids[b * L + t] = s[t];
        mask[b * L + t] = 1;
      }
    }
    const dims = [B, L];
    const feeds: Record<string, Tensor> = {};
    for (const name of this.session.inputNames) {
      if (name === 'input_ids') feeds[name] = this.intTensor(name, ids, dims);
      else if (name === 'attention_mask') feeds[name] = this.intTensor(name, mask, dims);
      else if (name === 'token_type_ids') feeds[name] = this.intTensor(name, new Int32Array(B * L), dims);
      else if (name === 'position_ids') {
        const pos = new Int32Array(B * L);
        for (let b = 0; b < B; b++) for (let t = 0; t < L; t++) pos[b * L + t] = t;
        feeds[name] = this.intTensor(name, pos, dims);
      } else throw new Error(`the ONNX model needs an input this featurizer cannot provide: ${name}`);
    }
    return { feeds, L };
  }

  /** One session run on prepared feeds; returns the chosen output ([B, L, D] float32). */
  async run(feeds: Feeds): Promise<Tensor> {
    const t0 = performance.now();
    const out = await this.session.run(feeds, [this.output]);
    this.stats.runSeconds += (performance.now() - t0) / 1000;
    this.stats.runs++;
    const t = out[this.output];
    if (!t || t.type !== 'float32' || t.dims.length !== 3)
      throw new Error(
        `ONNX output ${this.output} is not a float32 [batch, sequence, hidden] tensor (got ${t?.type} [${t?.dims.join(', ')}])`,
      );
    return t;
  }

  /**
   * Runs the sequences in planned batches and hands each one's output to `visit` while the batch's tensor is alive:
   * `data` is the [B, L, D] output, sequence i's positions start at row `base` (base + t is its position t). Returns
   * the hidden size. Nothing is copied here: a caller that keeps values copies them (encode), one that only pools
   * reads them in place.
   */
  async forEachOutput(
    seqs: readonly ArrayLike<number>[],
    visit: (i: number, data: Float32Array, base: number, D: number) => void,
    signal?: AbortSignal,
  ): Promise<number> {
    let dim = this.declaredDim() ?? 0;
    for (const batch of this.plan(seqs.map((s) => s.length))) {
      if (signal?.aborted) throw signal.reason ?? new Error('aborted');
      const { feeds, L } = this.buildFeeds(batch.map((i) => seqs[i]));
      if (this.options.recordFeeds) this.recorded.push(feeds);
      const t = await this.run(feeds);
      const D = Number(t.dims[2]);
      dim = D;
      const data = t.data as Float32Array;
      for (let b = 0; b < batch.length; b++) {
        visit(batch[b], data, b * L, D);
        this.stats.tokens += seqs[batch[b]].length;
      }
      this.stats.paddedTokens += batch.length * L;
      this.stats.rows += batch.length;
    }
    return dim;
  }

  /**
   * Encodes sequences; returns per sequence its (length x D) float32 output, padding dropped, or only the rows at
   * `keep[i]` (ascending positions) when given.
   */
  async encode(
    seqs: readonly ArrayLike<number>[],
    signal?: AbortSignal,
    keep?: readonly ArrayLike<number>[],
  ): Promise<{ out: Float32Array[]; dim: number }> {
    const out: Float32Array[] = new Array<Float32Array>(seqs.length);
    const dim = await this.forEachOutput(
      seqs,
      (i, data, base, D) => {
        out[i] = keep
          ? gatherRows(data, base, keep[i], D)
          : data.slice(base * D, (base + seqs[i].length) * D);
      },
      signal,
    );
    return { out, dim };
  }
}

/** Rows base + pos[t] (t = 0..) of a row-major (rows x D) array, copied; one copy when the positions are contiguous. */
export function gatherRows(
  data: Float32Array,
  base: number,
  pos: ArrayLike<number>,
  D: number,
): Float32Array {
  const T = pos.length;
  if (T === 0) return new Float32Array(0);
  if (pos[T - 1] - pos[0] === T - 1) return data.slice((base + pos[0]) * D, (base + pos[T - 1] + 1) * D);
  const f = new Float32Array(T * D);
  for (let t = 0; t < T; t++) f.set(data.subarray((base + pos[t]) * D, (base + pos[t] + 1) * D), t * D);
  return f;
}

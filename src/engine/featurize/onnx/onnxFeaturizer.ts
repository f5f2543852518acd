/**
 * The ONNX featurizer: a user's own transformer encoder (a Hugging Face style export in a local folder) as the frozen
 * part of the model. E = the chosen encoder output (default last_hidden_state) at the row's content tokens; the head
 * sees their mean. The baseline E' = the same encoder output on the same sequence with every token replaced by [MASK]
 * (special tokens kept), as in the paper.
 *
 * Tokens: the tokenizer's sub-word pieces, each with its own character offsets mapped to the raw file (so the editor
 * colors exactly the piece's characters), grouped into words by SourceToken.word (the hover sums a word's pieces).
 * Special tokens ([CLS], [SEP]) have no characters: they are run through the encoder (they shape the others'
 * context) but are neither pooled nor attributed, so the attributions of the visible pieces add up to the target.
 * Rows longer than the max length are truncated; the cut-off text is reported (TokenFeatures.truncated).
 *
 * Two paths: pool() gives every row's mean of E for the head, pooled in place from the encoder's output with no
 * per-token objects (the lean path, for all rows); featurize() gives the token vectors with their SourceTokens and
 * raw-file ranges (only for rows that get attributions or are explained). Both fill and read the same cache.
 */
import { dirname, join } from 'node:path';
import type { DatasetRow, SourceRange, SourceToken } from '../../types';
import { UsageError } from '../../types';
import type {
  FeaturizeOptions,
  FieldPoolingFeaturizer,
  FeaturizerReport,
  PoolOptions,
  PooledBatch,
  TokenFeatures,
} from '../featurizer';
import { FeatureCache, defaultCacheDir, modelKey, rowKey } from './cache';
import { OnnxEncoder, gatherRows } from './encoder';
import { chooseOutput, configMaxPositions, readExportDir, type ExportDir } from './exportDir';
import { type RowText, partAt, rowText, spanRange, tailRanges } from './rowText';
import { type BackendChoice, createSession, loadOnnxRuntime } from './runtime';
import { type Encoding, type OnnxTokenizer, loadTokenizer } from './tokenizer';

export interface OnnxFeaturizerOptions {
  /** The export folder (model.onnx, tokenizer.json, config.json). */
  dir: string;
  /** Output to use as E: an output name or a hidden_states index (see chooseOutput). Default: last_hidden_state. */
  layer?: string;
  /** Max tokens per row, special tokens included. Default: the model's (tokenizer / config.json), else 512. */
  maxLength?: number;
  /** onnxruntime intra-op threads; 0/undefined = onnxruntime's default. */
  threads?: number;
  backend?: BackendChoice;
  /** Feature cache folder; false = no cache. Default: the OS cache folder (defaultCacheDir()). */
  cacheDir?: string | false;
  maxBatchRows?: number;
  maxBatchTokens?: number;
  /** Keep the feeds of every session run (the bench replays them on the raw session). */
  recordFeeds?: boolean;
}

/** One row, tokenized: what the encoder gets and how its outputs map back to the file. */
export interface RowEncoding {
  key: string;
  encoding: Encoding;
  ids: Int32Array;
  maskedIds: Int32Array;
  /** Positions of the content (non-special) tokens in ids. */
  content: Int32Array;
  tokens: SourceToken[];
  truncated?: TokenFeatures['truncated'];
}

const FALLBACK_MAX_LENGTH = 512;

export class OnnxFeaturizer implements FieldPoolingFeaturizer {
  readonly poolsFrom = 'fields' as const;
  readonly pooling = 'mean' as const;
  readonly tokenLevel = true;
  readonly name: string;
  private readonly counters = {
    sessionRuns: 0,
    rowsEncoded: 0,
    baselineRowsEncoded: 0,
    cacheHits: 0,
    cacheMisses: 0,
    cacheWrites: 0,
    cacheBytesWritten: 0,
  };

  private constructor(
    readonly tokenizer: OnnxTokenizer,
    readonly encoder: OnnxEncoder,
    readonly dim: number,
    readonly output: string,
    readonly maxLength: number,
    readonly provider: 'cpu' | 'cuda',
    private readonly threads: number | undefined,
    private readonly cache: FeatureCache | undefined,
    private readonly notes: string[],
    dirArg: string,
  ) {
    this.name = `onnx:${dirArg}`;
  }

  /** `exp`: the export folder as read already by the caller (sharedOnnxFeaturizer keys on it), else read here. */
  static async create(
    options: OnnxFeaturizerOptions,
    exp: ExportDir = readExportDir(options.dir),
  ): Promise<OnnxFeaturizer> {
    const ort = loadOnnxRuntime();
    const tokenizer = await loadTokenizer(dirname(exp.tokenizer));
    const modelLimit = Math.min(
      sane(tokenizer.modelMaxLength) ?? Infinity,
      configMaxPositions(exp.config) ?? Infinity,
    );
    const limit = Number.isFinite(modelLimit) ? modelLimit : FALLBACK_MAX_LENGTH;
    if (options.maxLength !== undefined && !(Number.isInteger(options.maxLength) && options.maxLength >= 3))
      throw new UsageError(`--onnx-max-length must be an integer of at least 3, got ${options.maxLength}`);
    if (options.maxLength !== undefined && options.maxLength > limit)
      throw new UsageError(
        `--onnx-max-length ${options.maxLength} exceeds the model's limit of ${limit} tokens`,
      );
    const maxLength = options.maxLength ?? limit;
    const notes: string[] = [];
    const { session, provider, fallback } = await createSession(exp.model, {
      backend: options.backend,
      threads: options.threads,
    });
    if (fallback) notes.push(fallback);
    const output = chooseOutput(session.outputNames, options.layer);
    const encoder = new OnnxEncoder(ort, session, output, {
      padId: tokenizer.padId,
      maxBatchRows: options.maxBatchRows,
      maxBatchTokens: options.maxBatchTokens,
      recordFeeds: options.recordFeeds,
    });
    let dim = encoder.declaredDim() ?? configDim(exp.config);
    if (!dim) {
      const probe = await encoder.encode([[tokenizer.clsId, tokenizer.sepId]]);
      dim = probe.dim;
    }
    let cache: FeatureCache | undefined;
    if (options.cacheDir !== false) {
      const dir = options.cacheDir ?? defaultCacheDir();
      const tokDir = dirname(exp.tokenizer);
      const key = modelKey(
        [
          exp.model,
          ...(exp.modelData ? [exp.modelData] : []),
          exp.tokenizer,
          join(tokDir, 'tokenizer_config.json'),
          join(tokDir, 'special_tokens_map.json'),
        ],
        output,
        maxLength,
        `encoding=${ENCODING_VERSION}\n`,
      );
      cache = new FeatureCache(dir, key, (m) => notes.push(m));
      notes.push(`feature cache: ${cache.root} (about 20 + 4*T*${dim} bytes per row of T tokens)`);
    }
    const f = new OnnxFeaturizer(
      tokenizer,
      encoder,
      dim,
      output,
      maxLength,
      provider,
      options.threads,
      cache,
      notes,
      options.dir,
    );
    // Fresh session runs only from here on (the dim probe is not the rows' work).
    encoder.resetStats();
    return f;
  }

  /** Tokenizes a row and maps every content piece to its raw-file range. */
  encodeRow(row: DatasetRow): RowEncoding {
    const rt = rowText(row);
    return this.mapEncoding(row, rt, rowKey(rt.text), this.tokenizer.encode(rt.text, this.maxLength));
  }

  /** A tokenization of a row's text, mapped to the raw file. */
  private mapEncoding(row: DatasetRow, rt: RowText, key: string, enc: Encoding): RowEncoding {
    const ids = Int32Array.from(enc.ids);
    const maskedIds = Int32Array.from(this.tokenizer.maskIds(enc));
    const content = contentOf(rt, enc);
    const tokens: SourceToken[] = [];
    const words = new Map<string, number>();
    for (const i of content) {
      const off = enc.offsets[i]!;
      const mapped = spanRange(row, rt, off[0], off[1])!;
      const wr = enc.wordRanges[i] ?? off;
      const wordKey = `${wr[0]}:${wr[1]}`;
      let word = words.get(wordKey);
      if (word === undefined) {
        word = words.size;
        words.set(wordKey, word);
      }
      tokens.push({
        text: rt.text.slice(off[0], off[1]),
        field: mapped.field,
        line: mapped.range.line,
        start: mapped.range.start,
        end: mapped.range.end,
        word,
      });
    }
    return { key, encoding: enc, ids, maskedIds, content, tokens, truncated: truncatedRanges(row, rt, enc) };
  }

  /**
   * The head's input: every row's mean of E over its content tokens, read straight from the encoder's output (or
   * from the cache), with no SourceToken objects, raw-file ranges or per-row token matrices; ranges only for the
   * truncated rows. The same values as the mean of featurize()'s E, to the bit.
   */
  async pool(rows: readonly DatasetRow[], options: PoolOptions = {}): Promise<PooledBatch> {
    const D = this.dim;
    const X = new Float64Array(rows.length * D);
    const truncated = new Map<number, SourceRange[]>();
    const todo: Array<{ i: number; key: string; enc: Encoding; ids: Int32Array; content: Int32Array }> = [];
    rows.forEach((row, i) => {
      const rt = rowText(row);
      const key = this.cache ? rowKey(rt.text) : '';
      const hit = this.cache?.get(key, 'e', undefined, D);
      if (hit) {
        const stored = decodeEncoding(hit.extra);
        if (stored && contentOf(rt, stored).length === hit.T) {
          meanRowsInto(X, i * D, hit.data, 0, null, hit.T, D);
          const cut = truncatedRanges(row, rt, stored);
          if (cut) truncated.set(i, cut);
          return;
        }
        this.cache!.reject();
      }
      const enc = this.tokenizer.encode(rt.text, this.maxLength);
      const cut = truncatedRanges(row, rt, enc);
      if (cut) truncated.set(i, cut);
      const content = contentOf(rt, enc);
      // Nothing to encode (an empty text): the zero vector; the tokenization is stored, as featurize() does.
      if (content.length === 0) this.cache?.put(key, 'e', 0, D, new Float32Array(0), encodeEncoding(enc));
      else todo.push({ i, key, enc, ids: Int32Array.from(enc.ids), content });
    });
    if (todo.length) {
      const runsBefore = this.encoder.stats.runs;
      const dim = await this.encoder.forEachOutput(
        todo.map((r) => r.ids),
        (k, data, base, dimOut) => {
          if (dimOut !== D) return; // reported below
          const r = todo[k];
          const T = r.content.length;
          meanRowsInto(X, r.i * D, data, base, r.content, T, D);
          this.cache?.put(r.key, 'e', T, D, gatherRows(data, base, r.content, D), encodeEncoding(r.enc));
        },
        options.signal,
      );
      if (dim !== D)
        throw new Error(`the ONNX output ${this.output} has ${dim} values per token, expected ${D}`);
      this.counters.sessionRuns += this.encoder.stats.runs - runsBefore;
      this.counters.rowsEncoded += todo.length;
    }
    this.syncCacheCounters();
    return { X, ...(truncated.size ? { truncated } : {}) };
  }

  async featurize(rows: readonly DatasetRow[], options: FeaturizeOptions = {}): Promise<TokenFeatures[]> {
    const D = this.dim;
    const encs: RowEncoding[] = new Array<RowEncoding>(rows.length);
    const E: Float32Array[] = new Array<Float32Array>(rows.length);
    // E from the cache, with the stored tokenization (a warm re-score does not tokenize); else tokenize and encode.
    const todo: number[] = [];
    rows.forEach((row, i) => {
      const rt = rowText(row);
      const key = rowKey(rt.text);
      const hit = this.cache?.get(key, 'e', undefined, D);
      const stored = hit ? decodeEncoding(hit.extra) : undefined;
      if (hit && stored) {
        const enc = this.mapEncoding(row, rt, key, stored);
        if (enc.content.length === hit.T) {
          encs[i] = enc;
          E[i] = hit.data;
          return;
        }
      }
      if (hit) this.cache?.reject();
      encs[i] = this.mapEncoding(row, rt, key, this.tokenizer.encode(rt.text, this.maxLength));
      if (encs[i].content.length === 0) {
        // Nothing to encode (an empty text): store the tokenization alone, so a warm run finds it too.
        E[i] = new Float32Array(0);
        this.cache?.put(key, 'e', 0, D, E[i], encodeEncoding(encs[i].encoding));
      } else todo.push(i);
    });
    await this.encodeInto(E, encs, todo, 'e', options.signal);
    let B: Float32Array[] | undefined;
    if (options.baseline ?? true) {
      B = new Array<Float32Array>(rows.length);
      const todoB: number[] = [];
      encs.forEach((enc, i) => {
        const T = enc.content.length;
        const hit = T > 0 ? this.cache?.get(enc.key, 'b', T, D) : undefined;
        if (T === 0) B![i] = new Float32Array(0);
        else if (hit) B![i] = hit.data;
        else todoB.push(i);
      });
      await this.encodeInto(B, encs, todoB, 'b', options.signal);
    }
    this.syncCacheCounters();
    return encs.map((enc, i) => ({
      tokens: enc.tokens,
      dim: D,
      E: new Float64Array(E[i]),
      Ebase: B ? new Float64Array(B[i]) : new Float64Array(0),
      ...(enc.truncated ? { truncated: enc.truncated } : {}),
    }));
  }

  /** Runs the encoder on the rows `todo` (their ids, or their [MASK] ids for kind b), keeps the content tokens. */
  private async encodeInto(
    out: Float32Array[],
    encs: RowEncoding[],
    todo: number[],
    kind: 'e' | 'b',
    signal?: AbortSignal,
  ): Promise<void> {
    if (!todo.length) return;
    const D = this.dim;
    const runsBefore = this.encoder.stats.runs;
    const seqs = todo.map((i) => (kind === 'e' ? encs[i].ids : encs[i].maskedIds));
    const { out: content, dim } = await this.encoder.encode(
      seqs,
      signal,
      todo.map((i) => encs[i].content),
    );
    if (dim !== D)
      throw new Error(`the ONNX output ${this.output} has ${dim} values per token, expected ${D}`);
    this.counters.sessionRuns += this.encoder.stats.runs - runsBefore;
    if (kind === 'e') this.counters.rowsEncoded += todo.length;
    else this.counters.baselineRowsEncoded += todo.length;
    todo.forEach((i, k) => {
      const enc = encs[i];
      const T = enc.content.length;
      const f = content[k];
      out[i] = f;
      this.cache?.put(enc.key, kind, T, D, f, kind === 'e' ? encodeEncoding(enc.encoding) : undefined);
    });
  }

  private syncCacheCounters(): void {
    if (!this.cache) return;
    const s = this.cache.stats;
    this.counters.cacheHits = s.hits;
    this.counters.cacheMisses = s.misses;
    this.counters.cacheWrites = s.writes;
    this.counters.cacheBytesWritten = s.bytesWritten;
  }

  /** "onnxruntime-node 1.30.0 cpu (2 threads)". */
  get backend(): string {
    const ort = loadOnnxRuntime();
    const version = ort.env?.versions?.node ?? '';
    return `onnxruntime-node${version ? ` ${version}` : ''} ${this.provider}${
      this.threads ? ` (${this.threads} threads)` : ''
    }`;
  }

  report(): FeaturizerReport {
    return { backend: this.backend, notes: [...this.notes], counters: { ...this.counters } };
  }

  /** One line for the summary: folder, output, max length. */
  describe(): string {
    return `${this.name} (output ${this.output}, max length ${this.maxLength}, ${this.dim}-d)`;
  }

  async dispose(): Promise<void> {
    await this.encoder.session.release();
  }
}

function sane(n: number | undefined): number | undefined {
  return typeof n === 'number' && Number.isInteger(n) && n > 0 && n < 1e6 ? n : undefined;
}

function configDim(config: Record<string, unknown>): number | undefined {
  for (const k of ['hidden_size', 'dim', 'd_model', 'n_embd']) {
    const v = config[k];
    if (typeof v === 'number' && Number.isInteger(v) && v > 0) return v;
  }
  return undefined;
}

/**
 * Positions in the encoding of the row's own tokens (pooled and attributed): those with characters, starting in a
 * field (special tokens, and a byte-level piece of the field separator, are run but not the row's).
 */
function contentOf(rt: RowText, enc: Encoding): Int32Array {
  const out = new Int32Array(enc.ids.length);
  let n = 0;
  for (let i = 0; i < enc.ids.length; i++) {
    const off = enc.offsets[i];
    if (off && partAt(rt, off[0]) >= 0) out[n++] = i;
  }
  return out.subarray(0, n);
}

/** The raw-file ranges of the text truncation cut off, or undefined when nothing (visible) was cut. */
function truncatedRanges(row: DatasetRow, rt: RowText, enc: Encoding): SourceRange[] | undefined {
  if (enc.truncatedAt === null || enc.truncatedAt === undefined || enc.truncatedAt >= rt.text.length)
    return undefined;
  const ranges = tailRanges(row, rt, enc.truncatedAt);
  return ranges.length ? ranges : undefined;
}

/**
 * out[at..at+D) = the mean of T rows of a row-major float32 array: rows base + pos[t] (base + t when pos is null).
 * The arithmetic of poolTokens (tokenVectors.ts) on featurize()'s E, in the same order, so pool() equals it exactly.
 */
function meanRowsInto(
  out: Float64Array,
  at: number,
  data: Float32Array,
  base: number,
  pos: Int32Array | null,
  T: number,
  D: number,
): void {
  if (T === 0) return;
  const w = 1 / T;
  for (let t = 0; t < T; t++) {
    const o = (base + (pos ? pos[t] : t)) * D;
    for (let l = 0; l < D; l++) out[at + l] += w * data[o + l];
  }
}

/** Version of the stored tokenization (part of the cache key: a tokenizer code change must not reuse old ones). */
const ENCODING_VERSION = 1;

/** A tokenization as int32s: n, truncatedAt (-1: none), ids[n], offsets[2n] and wordRanges[2n] (-1: null). */
export function encodeEncoding(enc: Encoding): Int32Array {
  const n = enc.ids.length;
  const out = new Int32Array(2 + 5 * n);
  out[0] = n;
  out[1] = enc.truncatedAt ?? -1;
  for (let i = 0; i < n; i++) {
    out[2 + i] = enc.ids[i];
    const o = enc.offsets[i];
    const w = enc.wordRanges[i];
    out[2 + n + 2 * i] = o ? o[0] : -1;
    out[3 + n + 2 * i] = o ? o[1] : -1;
    out[2 + 3 * n + 2 * i] = w ? w[0] : -1;
    out[3 + 3 * n + 2 * i] = w ? w[1] : -1;
  }
  return out;
}

/** The inverse of encodeEncoding (tokens are not stored: nothing downstream needs their strings); undefined if malformed. */
export function decodeEncoding(a: Int32Array): Encoding | undefined {
  const n = a[0];
  if (!(n >= 0) || a.length !== 2 + 5 * n) return undefined;
  const pair = (k: number): [number, number] | null => (a[k] < 0 ? null : [a[k], a[k + 1]]);
  const ids: number[] = new Array<number>(n);
  const offsets: Encoding['offsets'] = new Array<[number, number] | null>(n);
  const wordRanges: Encoding['wordRanges'] = new Array<[number, number] | null>(n);
  for (let i = 0; i < n; i++) {
    ids[i] = a[2 + i];
    offsets[i] = pair(2 + n + 2 * i);
    wordRanges[i] = pair(2 + 3 * n + 2 * i);
  }
  return { ids, tokens: [], offsets, wordRanges, truncatedAt: a[1] < 0 ? null : a[1] };
}

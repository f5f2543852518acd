/**
 * Hugging Face tokenizers (tokenizer.json) for the ONNX featurizer, with character offsets into the ORIGINAL text.
 *
 * The tokens and ids are those of @huggingface/tokenizers (the maintained JS port of `tokenizers`; WordPiece, BPE,
 * Unigram; BERT normalizer and pre-tokenizer, byte-level, Metaspace, template post-processing), whose encode() gives
 * no offsets. So encode() here runs the library's own pipeline pieces in the library's order (added-token split ->
 * normalizer -> pre-tokenizer -> model -> post-processor; the tests check the tokens equal the library's encode())
 * and tracks where every piece came from:
 *
 * 1. Sections: the raw text is split at added tokens (e.g. a literal "[MASK]" in the text, as Hugging Face does),
 *    so every section is a known slice of the text.
 * 2. Normalization (lowercasing, NFD + accent stripping, control-character removal, CJK spacing, ...): each section
 *    is cut into units (a code point with its following combining marks), each unit is normalized on its own and
 *    every normalized character points back to its unit. If the units' normalizations do not concatenate to the
 *    normalization of the whole section (context-dependent normalizers: Greek final sigma, NFC across units,
 *    Prepend/Strip), the two are aligned by an edit-distance alignment (exact where characters agree).
 * 3. Pre-tokenization: each pre-token ("word") is decoded back to normalized text (byte-level pre-tokens through the
 *    GPT-2 byte table, Metaspace's "▁" as a space; a prefix space the pre-tokenizer added maps to nothing) and
 *    found in order in the normalized section.
 * 4. Model: the model's pieces of a word are matched in order inside the word, after removing the continuation
 *    marks ("##", end-of-word suffixes); byte-fallback pieces (<0xNN>) by their UTF-8 bytes; unknown pieces take
 *    the gap up to the next matched piece (a WordPiece [UNK] is a whole word). A byte-level piece that holds only
 *    part of a character's UTF-8 bytes gets the whole character.
 *
 * Offsets are UTF-16 [start, end) into the text given to encode(), trimmed of surrounding whitespace (so "Ġworld"
 * is "world"); special tokens added by the post-processor have null. wordRanges give each piece its whole pre-token
 * word's range (so "un ##believ ##ably" all carry "unbelievably"). Truncation keeps the first
 * maxLength - (number of added special tokens) pieces.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';

export interface Encoding {
  ids: number[];
  tokens: string[];
  /** UTF-16 [start, end) into the encoded text, whitespace-trimmed; null for special tokens added around the text. */
  offsets: Array<[number, number] | null>;
  /** The range of the whole pre-token word a piece belongs to (sub-word pieces share it); null for added specials. */
  wordRanges: Array<[number, number] | null>;
  /** Text offset where truncation cut the text (start of the first dropped piece), null if nothing was dropped. */
  truncatedAt: number | null;
}

export interface OnnxTokenizer {
  /** The tokenizer model type: 'WordPiece', 'BPE', 'Unigram', ... */
  readonly modelType: string;
  /** Vocabulary size including added tokens (max id + 1). */
  readonly vocabSize: number;
  /** Largest sequence length (with special tokens) the model accepts. */
  readonly modelMaxLength: number;
  /** Special tokens added around one sequence ([CLS] ... [SEP]: 1 and 1). */
  readonly numPrefixTokens: number;
  readonly numSuffixTokens: number;
  /** The mask token (the attribution baseline); tokenizers without one fall back to unk, then pad (hasMaskToken false). */
  readonly maskId: number;
  readonly hasMaskToken: boolean;
  /** Padding id (pad token, else eos, else unk, else 0; padded positions are masked out anyway). */
  readonly padId: number;
  /** Start / end special of a sequence (cls_token, else the post-processor's first/last special, else bos/eos, else padId). */
  readonly clsId: number;
  readonly sepId: number;
  /** null when the vocabulary has no unknown token (byte-level BPE). */
  readonly unkId: number | null;
  /** Encodes one text: [special prefix] pieces [special suffix], at most maxLength ids in all. */
  encode(text: string, maxLength?: number): Encoding;
  /** The baseline sequence: every token with a text offset replaced by the mask id, added specials kept. */
  maskIds(encoding: Encoding): number[];
  idToToken(id: number): string | undefined;
  tokenToId(token: string): number | undefined;
}

type Json = Record<string, unknown>;

interface AddedTokenSpec {
  id: number;
  content: string;
  lstrip: boolean;
  rstrip: boolean;
  special: boolean;
  normalized: boolean;
}

/** A normalized string whose every UTF-16 unit knows the range of the source it came from. */
interface Aligned {
  text: string;
  start: Int32Array;
  end: Int32Array;
}

interface Piece {
  token: string;
  /** Untrimmed [start, end) in the encoded text. */
  range: [number, number];
  word: [number, number];
}

const WS = /\s/u;

function readJsonIfExists(file: string): Promise<Json | null> {
  return readFile(file, 'utf8').then(
    (s) => JSON.parse(s) as Json,
    (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return null;
      throw e;
    },
  );
}

function tokenContent(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as Json).content === 'string')
    return (v as Json).content as string;
  return undefined;
}

/** Does a (possibly Sequence) component config contain a component of this type? Returns the first found. */
function findComponent(cfg: unknown, type: string): Json | null {
  if (!cfg || typeof cfg !== 'object') return null;
  const c = cfg as Json;
  if (c.type === type) return c;
  for (const key of ['pretokenizers', 'normalizers', 'processors', 'decoders']) {
    const list = c[key];
    if (Array.isArray(list))
      for (const sub of list) {
        const f = findComponent(sub, type);
        if (f) return f;
      }
  }
  return null;
}

/** GPT-2's byte-to-unicode table, inverted: character -> byte. */
const UNICODE_TO_BYTE: Map<string, number> = (() => {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++)
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  return new Map(bs.map((b, i) => [String.fromCharCode(cs[i]), b]));
})();

/**
 * Decodes UTF-8 bytes; returns the string and, per byte, the UTF-16 range of the character it belongs to
 * (invalid sequences become U+FFFD, one per byte).
 */
function decodeUtf8(bytes: number[]): { text: string; start: number[]; end: number[] } {
  let text = '';
  const start: number[] = new Array(bytes.length);
  const end: number[] = new Array(bytes.length);
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    let need = 0;
    let cp = 0;
    if (b < 0x80) cp = b;
    else if (b >= 0xc2 && b < 0xe0) [need, cp] = [1, b & 0x1f];
    else if (b >= 0xe0 && b < 0xf0) [need, cp] = [2, b & 0x0f];
    else if (b >= 0xf0 && b < 0xf5) [need, cp] = [3, b & 0x07];
    else need = -1;
    let ok = need >= 0 && i + need < bytes.length;
    if (ok)
      for (let k = 1; k <= need; k++) {
        const c = bytes[i + k];
        if (c === undefined || (c & 0xc0) !== 0x80) {
          ok = false;
          break;
        }
        cp = (cp << 6) | (c & 0x3f);
      }
    if (ok && need > 0) {
      const min = need === 1 ? 0x80 : need === 2 ? 0x800 : 0x10000;
      if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) ok = false;
    }
    const len = ok ? need + 1 : 1;
    const s = ok ? String.fromCodePoint(cp) : '\ufffd';
    for (let k = 0; k < len; k++) {
      start[i + k] = text.length;
      end[i + k] = text.length + s.length;
    }
    text += s;
    i += len;
  }
  return { text, start, end };
}

/** Units of a string: a code point with the combining marks that follow it (a leading run of marks is a unit). */
const UNIT_RE = /[^\p{M}]\p{M}*|\p{M}+/gsu;

/**
 * Edit-distance alignment of b (the normalized text) onto a (the per-unit normalizations, with origins): equal or
 * substituted characters take their partner's origin, inserted ones a point. Quadratic in the differing middle part.
 */
function alignByEditDistance(
  a: string,
  aStart: Int32Array,
  aEnd: Int32Array,
  b: string,
  out: Aligned,
  maxCells = 8_000_000,
): void {
  // Common prefix and suffix are matched one to one.
  let p = 0;
  while (p < a.length && p < b.length && a[p] === b[p]) {
    out.start[p] = aStart[p];
    out.end[p] = aEnd[p];
    p++;
  }
  let s = 0;
  while (s < a.length - p && s < b.length - p && a[a.length - 1 - s] === b[b.length - 1 - s]) {
    out.start[b.length - 1 - s] = aStart[a.length - 1 - s];
    out.end[b.length - 1 - s] = aEnd[a.length - 1 - s];
    s++;
  }
  const m = a.length - p - s;
  const n = b.length - p - s;
  if (n === 0) return;
  const zeroAt = (i: number) => (i < a.length ? aStart[i] : a.length ? aEnd[a.length - 1] : 0);
  if (m === 0) {
    for (let j = 0; j < n; j++) out.start[p + j] = out.end[p + j] = zeroAt(p);
    return;
  }
  if ((m + 1) * (n + 1) > maxCells) {
    // Too long to align exactly: proportional mapping (approximate offsets).
    for (let j = 0; j < n; j++) {
      const i = p + Math.min(m - 1, Math.floor((j * m) / n));
      out.start[p + j] = aStart[i];
      out.end[p + j] = aEnd[i];
    }
    return;
  }
  // dir: 0 = diagonal (match/substitute), 1 = up (a[i] dropped), 2 = left (b[j] inserted).
  const W = n + 1;
  const dir = new Uint8Array((m + 1) * W);
  let prev = new Uint32Array(W);
  let cur = new Uint32Array(W);
  for (let j = 0; j <= n; j++) {
    prev[j] = j;
    dir[j] = 2;
  }
  for (let i = 1; i <= m; i++) {
    cur[0] = i;
    dir[i * W] = 1;
    const ai = a[p + i - 1];
    for (let j = 1; j <= n; j++) {
      const diag = prev[j - 1] + (ai === b[p + j - 1] ? 0 : 1);
      const up = prev[j] + 1;
      const left = cur[j - 1] + 1;
      let best = diag;
      let d = 0;
      if (up < best) {
        best = up;
        d = 1;
      }
      if (left < best) {
        best = left;
        d = 2;
      }
      cur[j] = best;
      dir[i * W + j] = d;
    }
    [prev, cur] = [cur, prev];
  }
  let i = m;
  let j = n;
  while (j > 0) {
    const d = i === 0 ? 2 : dir[i * W + j];
    if (d === 0) {
      out.start[p + j - 1] = aStart[p + i - 1];
      out.end[p + j - 1] = aEnd[p + i - 1];
      i--;
      j--;
    } else if (d === 1) i--;
    else {
      // An inserted character: zero width where the next source character starts.
      out.start[p + j - 1] = out.end[p + j - 1] = zeroAt(p + i);
      j--;
    }
  }
}

/** The letter a unit is normalized between (HfOnnxTokenizer.normalizeUnit). */
const UNIT_ANCHOR = 'a';

/**
 * What the normalizer makes of one anchor letter (`pre`) and what a second one adds after it (`tail`), or null when
 * two anchors do not normalize to the first one's result followed by a non-empty rest (then units are normalized
 * alone). The same for every unit, so computed once per tokenizer.
 */
function anchorOf(norm: (s: string) => string): { pre: string; tail: string } | null {
  const pre = norm(UNIT_ANCHOR);
  const both = norm(UNIT_ANCHOR + UNIT_ANCHOR);
  const tail = both.startsWith(pre) ? both.slice(pre.length) : '';
  return tail ? { pre, tail } : null;
}

class HfOnnxTokenizer implements OnnxTokenizer {
  readonly modelType: string;
  readonly vocabSize: number;
  readonly modelMaxLength: number;
  readonly numPrefixTokens: number;
  readonly numSuffixTokens: number;
  readonly maskId: number;
  readonly hasMaskToken: boolean;
  readonly padId: number;
  readonly clsId: number;
  readonly sepId: number;
  readonly unkId: number | null;

  private readonly tk: Tokenizer;
  private readonly added: AddedTokenSpec[] = [];
  private readonly addedByContent = new Map<string, AddedTokenSpec>();
  private readonly rawSplitter: string[] = [];
  private readonly normSplitter: string[] = [];
  private readonly normalizeFn: ((s: string) => string) | null;
  /** The normalization of the anchor letter and what a second one adds after it (see normalizeUnit), if usable. */
  private readonly unitAnchor: { pre: string; tail: string } | null;
  private readonly unitCache = new Map<string, string>();
  private readonly splitIndex = new Map<string[], Map<string, string[]>>();
  private readonly byteLevel: boolean;
  private readonly metaspace: string | null;
  private readonly wpPrefix: string | null;
  private readonly bpeSuffix: string | null;
  private readonly bpeContSuffix: string | null;
  private readonly bpeContPrefix: string | null;
  private readonly unkToken: string | null;

  constructor(tokenizerJson: Json, tokenizerConfig: Json, specialMap: Json, modelConfig: Json) {
    const tj: Json = { ...tokenizerJson };
    for (const k of ['normalizer', 'pre_tokenizer', 'post_processor', 'decoder'])
      if (!(k in tj)) tj[k] = null;
    if (!Array.isArray(tj.added_tokens)) tj.added_tokens = [];
    this.tk = new Tokenizer(tj, tokenizerConfig);
    const model = (tj.model ?? {}) as Json;
    this.modelType = typeof model.type === 'string' ? model.type : 'unknown';

    for (const t of tj.added_tokens as Json[]) {
      const special = (t.special as boolean | undefined) ?? false;
      const spec: AddedTokenSpec = {
        id: t.id as number,
        content: t.content as string,
        lstrip: (t.lstrip as boolean | undefined) ?? false,
        rstrip: (t.rstrip as boolean | undefined) ?? false,
        special,
        normalized: (t.normalized as boolean | undefined) ?? !special,
      };
      this.added.push(spec);
    }
    this.normalizeFn = this.makeNormalize(tokenizerConfig);
    this.unitAnchor = this.normalizeFn ? anchorOf(this.normalizeFn) : null;
    for (const a of this.added) {
      this.addedByContent.set(a.content, a);
      if (a.normalized && this.tk.normalizer) {
        const nc = this.tk.normalizer(a.content);
        this.addedByContent.set(nc, a);
        this.normSplitter.push(nc);
      } else this.rawSplitter.push(a.content);
    }

    this.byteLevel = findComponent(tj.pre_tokenizer, 'ByteLevel') !== null;
    const ms = findComponent(tj.pre_tokenizer, 'Metaspace');
    this.metaspace = ms ? ((ms.replacement as string | undefined) ?? '\u2581') : null;
    this.wpPrefix =
      this.modelType === 'WordPiece'
        ? ((model.continuing_subword_prefix as string | undefined) ?? '##')
        : null;
    this.bpeSuffix = (model.end_of_word_suffix as string | undefined) || null;
    this.bpeContSuffix = (model.continuing_subword_suffix as string | undefined) || null;
    this.bpeContPrefix =
      this.modelType === 'BPE' ? (model.continuing_subword_prefix as string | undefined) || null : null;
    this.unkToken = this.tk.model?.unk_token ?? null;

    // Where the post-processor puts its specials around one sequence.
    const sentinel = '\u0000\u0001sentinel\u0001\u0000';
    const around = this.postProcess([sentinel]);
    const at = around.indexOf(sentinel);
    if (at < 0 || around.lastIndexOf(sentinel) !== at)
      throw new Error('tokenizer.json: cannot tell where the post-processor adds special tokens');
    const prefix = around.slice(0, at);
    const suffix = around.slice(at + 1);
    this.numPrefixTokens = prefix.length;
    this.numSuffixTokens = suffix.length;

    let maxId = -1;
    for (const [, id] of this.tk.get_vocab(true)) maxId = Math.max(maxId, id);
    this.vocabSize = maxId + 1;

    const cfgTok = (k: string) => tokenContent(tokenizerConfig[k]) ?? tokenContent(specialMap[k]);
    const idOf = (t: string | undefined | null) => (t == null ? undefined : this.tk.token_to_id(t));
    const firstKnown = (...cands: Array<string | undefined | null>) => {
      for (const c of cands) {
        const id = idOf(c);
        if (id !== undefined) return id;
      }
      return undefined;
    };
    this.unkId = firstKnown(this.unkToken, cfgTok('unk_token'), '[UNK]', '<unk>') ?? null;
    const mask = firstKnown(cfgTok('mask_token'), '[MASK]', '<mask>');
    const pad = firstKnown(cfgTok('pad_token'), '[PAD]', '<pad>');
    const eos = firstKnown(cfgTok('eos_token'));
    this.padId = pad ?? eos ?? this.unkId ?? 0;
    this.hasMaskToken = mask !== undefined;
    this.maskId = mask ?? this.unkId ?? this.padId;
    this.clsId = firstKnown(cfgTok('cls_token'), prefix[0], cfgTok('bos_token')) ?? this.padId;
    this.sepId =
      firstKnown(cfgTok('sep_token'), suffix[suffix.length - 1], cfgTok('eos_token')) ?? this.padId;

    const mml = tokenizerConfig.model_max_length;
    let maxLen = typeof mml === 'number' && mml > 0 && mml <= 1e6 ? mml : NaN;
    if (Number.isNaN(maxLen)) {
      const mpe = (modelConfig.max_position_embeddings ?? modelConfig.n_positions) as number | undefined;
      if (typeof mpe === 'number' && mpe > 0) {
        // RoBERTa-family position ids start after the padding index.
        const offset = ['roberta', 'xlm-roberta', 'camembert', 'longformer'].includes(
          String(modelConfig.model_type),
        )
          ? 2
          : 0;
        maxLen = mpe - offset;
      } else maxLen = 512;
    }
    this.modelMaxLength = maxLen;
  }

  idToToken(id: number): string | undefined {
    return this.tk.id_to_token(id);
  }

  tokenToId(token: string): number | undefined {
    return this.tk.token_to_id(token);
  }

  private makeNormalize(cfg: Json): ((s: string) => string) | null {
    const removeSpace = cfg.remove_space === true;
    const lowerStrip = cfg.do_lowercase_and_remove_accent === true;
    const norm = this.tk.normalizer;
    if (!removeSpace && !lowerStrip && !norm) return null;
    return (s: string) => {
      if (removeSpace) s = s.trim().split(/\s+/).join(' ');
      if (lowerStrip) s = s.toLowerCase().replace(/\p{M}/gu, '');
      if (norm) s = norm(s);
      return s;
    };
  }

  private postProcess(tokens: string[]): string[] {
    const pp = this.tk.post_processor;
    return pp ? pp(tokens, null, true).tokens : tokens;
  }

  /** Splits [from, to) of s at the given literal tokens (longest match first, as the library does). */
  private splitAt(s: string, from: number, to: number, tokens: string[]): Array<[number, number, boolean]> {
    const out: Array<[number, number, boolean]> = [];
    if (tokens.length === 0) {
      if (to > from) out.push([from, to, false]);
      return out;
    }
    let byFirst = this.splitIndex.get(tokens);
    if (!byFirst) {
      byFirst = new Map<string, string[]>();
      for (const t of tokens) if (t) byFirst.set(t[0], [...(byFirst.get(t[0]) ?? []), t]);
      this.splitIndex.set(tokens, byFirst);
    }
    let start = from;
    let i = from;
    while (i < to) {
      let best = '';
      for (const t of byFirst.get(s[i]) ?? [])
        if (t.length > best.length && i + t.length <= to && s.startsWith(t, i)) best = t;
      if (best) {
        if (i > start) out.push([start, i, false]);
        out.push([i, i + best.length, true]);
        i += best.length;
        start = i;
      } else i++;
    }
    if (start < to) out.push([start, to, false]);
    // lstrip/rstrip of added tokens eat the whitespace next to them.
    for (let k = 0; k < out.length; k++) {
      if (!out[k][2]) continue;
      const spec = this.addedByContent.get(s.slice(out[k][0], out[k][1]));
      if (spec?.lstrip && k > 0 && !out[k - 1][2]) {
        const p = out[k - 1];
        while (p[1] > p[0] && WS.test(s[p[1] - 1])) p[1]--;
      }
      if (spec?.rstrip && k + 1 < out.length && !out[k + 1][2]) {
        const q = out[k + 1];
        while (q[0] < q[1] && WS.test(s[q[0]])) q[0]++;
      }
    }
    return out;
  }

  /**
   * The normalization of one unit as it would be inside a text: between two anchor letters, which are then removed
   * (so a Prepend normalizer does not prepend to every unit, nor Strip strip every space); the unit alone if the
   * anchors do not survive normalization unchanged.
   */
  private normalizeUnit(u: string, norm: (s: string) => string): string {
    const anchor = this.unitAnchor;
    if (anchor) {
      const { pre, tail } = anchor;
      const full = norm(UNIT_ANCHOR + u + UNIT_ANCHOR);
      if (full.startsWith(pre) && full.endsWith(tail) && full.length >= pre.length + tail.length)
        return full.slice(pre.length, full.length - tail.length);
    }
    return norm(u);
  }

  /** Normalizes src with, for every UTF-16 unit of the result, the [start, end) of src it came from. */
  private align(src: string): Aligned {
    const norm = this.normalizeFn;
    if (!norm) {
      const start = new Int32Array(src.length);
      const end = new Int32Array(src.length);
      for (let i = 0; i < src.length; i++) {
        start[i] = i;
        end[i] = i + 1;
      }
      return { text: src, start, end };
    }
    const text = norm(src);
    // Per-unit normalization with origins.
    let c = '';
    const cs: number[] = [];
    const ce: number[] = [];
    if (this.unitCache.size > 100_000) this.unitCache.clear();
    UNIT_RE.lastIndex = 0;
    for (let m = UNIT_RE.exec(src); m !== null; m = UNIT_RE.exec(src)) {
      let p = this.unitCache.get(m[0]);
      if (p === undefined) {
        p = this.normalizeUnit(m[0], norm);
        this.unitCache.set(m[0], p);
      }
      c += p;
      for (let k = 0; k < p.length; k++) {
        cs.push(m.index);
        ce.push(m.index + m[0].length);
      }
    }
    const out: Aligned = { text, start: new Int32Array(text.length), end: new Int32Array(text.length) };
    if (c === text) {
      out.start.set(cs);
      out.end.set(ce);
    } else alignByEditDistance(c, Int32Array.from(cs), Int32Array.from(ce), text, out);
    return out;
  }

  /**
   * A pre-token word decoded back to the text it was made from: the text and, for each UTF-16 unit of the word,
   * the range of that text it stands for.
   */
  private decodeWord(word: string): { text: string; start: number[]; end: number[] } {
    if (this.byteLevel) {
      const bytes: number[] = [];
      let allBytes = true;
      for (const ch of word) {
        const b = UNICODE_TO_BYTE.get(ch);
        if (b === undefined) {
          allBytes = false;
          break;
        }
        bytes.push(b);
      }
      if (allBytes && bytes.length === word.length) return decodeUtf8(bytes);
    }
    const start: number[] = [];
    const end: number[] = [];
    let text = word;
    if (this.metaspace && word.includes(this.metaspace)) text = word.split(this.metaspace).join(' ');
    if (text.length !== word.length) text = word; // replacement of another length: give up decoding
    for (let i = 0; i < word.length; i++) {
      start.push(i);
      end.push(i + 1);
    }
    return { text, start, end };
  }

  /** Pieces of one word: their [start, end) in word (UTF-16 units of the pre-token string). */
  private pieceRanges(word: string, pieces: string[]): Array<[number, number]> {
    const ranges: Array<[number, number]> = new Array(pieces.length);
    let cursor = 0;
    let pending: number[] = [];
    const settle = (upTo: number) => {
      // Unknown pieces share the gap [cursor, upTo): one code point each, the last takes the rest.
      let pos = cursor;
      for (let k = 0; k < pending.length; k++) {
        const last = k === pending.length - 1;
        let next = pos;
        if (last) next = upTo;
        else if (pos < upTo) next = pos + (word.codePointAt(pos)! > 0xffff ? 2 : 1);
        ranges[pending[k]] = [pos, Math.min(next, upTo)];
        pos = Math.min(next, upTo);
      }
      pending = [];
      cursor = Math.max(cursor, upTo);
    };
    const BYTE_RE = /^<0x([0-9A-Fa-f]{2})>$/;
    for (let i = 0; i < pieces.length; i++) {
      const t = pieces[i];
      if (t === this.unkToken) {
        pending.push(i);
        continue;
      }
      if (BYTE_RE.test(t)) {
        // A run of byte-fallback pieces: decode their bytes together.
        let j = i;
        const bytes: number[] = [];
        for (; j < pieces.length && BYTE_RE.test(pieces[j]); j++)
          bytes.push(parseInt(pieces[j].slice(3, 5), 16));
        const d = decodeUtf8(bytes);
        const at = word.indexOf(d.text, cursor);
        if (at < 0) {
          for (let k = i; k < j; k++) pending.push(k);
        } else {
          settle(at);
          for (let k = i; k < j; k++) ranges[k] = [at + d.start[k - i], at + d.end[k - i]];
          cursor = at + d.text.length;
        }
        i = j - 1;
        continue;
      }
      let s = t;
      if (this.wpPrefix && i > 0 && s.startsWith(this.wpPrefix)) s = s.slice(this.wpPrefix.length);
      if (this.bpeContPrefix && i > 0 && s.startsWith(this.bpeContPrefix))
        s = s.slice(this.bpeContPrefix.length);
      if (this.bpeSuffix && i === pieces.length - 1 && s.endsWith(this.bpeSuffix))
        s = s.slice(0, s.length - this.bpeSuffix.length);
      if (this.bpeContSuffix && i < pieces.length - 1 && s.endsWith(this.bpeContSuffix))
        s = s.slice(0, s.length - this.bpeContSuffix.length);
      const at = word.startsWith(s, cursor) ? cursor : word.indexOf(s, cursor);
      if (at < 0 || s.length === 0) {
        pending.push(i);
        continue;
      }
      settle(at);
      ranges[i] = [at, at + s.length];
      cursor = at + s.length;
    }
    settle(word.length);
    return ranges;
  }

  /** The pieces of the text (at least `limit` of them when there are), with untrimmed ranges and word ranges. */
  private pieces(text: string, limit: number): Piece[] {
    const out: Piece[] = [];
    const sections = this.splitAt(text, 0, text.length, this.rawSplitter);
    sections.forEach(([s0, s1, isAdded], sectionIndex) => {
      if (s1 <= s0 || out.length >= limit) return;
      const sectionText = text.slice(s0, s1);
      if (isAdded || this.addedByContent.has(sectionText)) {
        out.push({ token: sectionText, range: [s0, s1], word: [s0, s1] });
        return;
      }
      const al = this.align(sectionText);
      const N = al.text;
      if (N.length === 0) return;
      /** [a, b) of N -> range in text. */
      const toText = (a: number, b: number): [number, number] => {
        if (b <= a) {
          const p = a < N.length ? al.start[a] : al.end[N.length - 1];
          return [s0 + p, s0 + p];
        }
        let lo = Infinity;
        let hi = -Infinity;
        for (let k = a; k < b; k++) {
          lo = Math.min(lo, al.start[k]);
          hi = Math.max(hi, al.end[k]);
        }
        return [s0 + lo, s0 + hi];
      };
      for (const [u0, u1, isNormAdded] of this.splitAt(N, 0, N.length, this.normSplitter)) {
        if (u1 <= u0 || out.length >= limit) continue;
        const sub = N.slice(u0, u1);
        if (isNormAdded || this.addedByContent.has(sub)) {
          const r = toText(u0, u1);
          out.push({ token: sub, range: r, word: r });
          continue;
        }
        const words: string[] = this.tk.pre_tokenizer
          ? this.tk.pre_tokenizer(sub, { section_index: sectionIndex })
          : [sub];
        const model = this.tk.model;
        if (!model) throw new Error('tokenizer.json has no model');
        // Model only as many words as needed (pieces are per word, so a truncated text stops early).
        let need = limit - out.length;
        const perWord: string[][] = [];
        for (const w of words) {
          if (need <= 0) break;
          const p: string[] = model([w]);
          perWord.push(p);
          need -= p.length;
        }
        words.length = perWord.length;
        if (model.fuse_unk) {
          // Unknown pieces may be fused across words: then fall back to one "word" per subsection.
          const all: string[] = model(words);
          const flat = perWord.flat();
          if (all.length !== flat.length || all.some((t, k) => t !== flat[k])) {
            const joined = words.join('');
            perWord.length = 0;
            words.length = 0;
            words.push(joined);
            perWord.push(all);
          }
        }
        let cursor = 0;
        words.forEach((w, wi) => {
          const d = this.decodeWord(w);
          let at = sub.indexOf(d.text, cursor);
          let lead = 0;
          if (at < 0 && d.text.startsWith(' ')) {
            // A prefix space added by the pre-tokenizer.
            const k = sub.indexOf(d.text.slice(1), cursor);
            if (k >= 0) [at, lead] = [k, 1];
          }
          if (at < 0) at = Math.min(cursor, sub.length); // could not locate: approximate
          // Decoded text index -> sub index (the synthetic lead maps to a point).
          const dPos = (k: number) => Math.min(sub.length, at + Math.max(0, k - lead));
          const wordEnd = dPos(d.text.length);
          const wordRange = toText(u0 + dPos(lead), u0 + wordEnd);
          const pr = this.pieceRanges(w, perWord[wi]);
          perWord[wi].forEach((token, pi) => {
            const [a, b] = pr[pi];
            let r: [number, number];
            if (b > a) r = toText(u0 + dPos(d.start[a]), u0 + dPos(d.end[b - 1]));
            else {
              const p = a < d.start.length ? dPos(d.start[a]) : wordEnd;
              r = toText(u0 + p, u0 + p);
            }
            out.push({ token, range: r, word: wordRange });
          });
          cursor = Math.max(cursor, wordEnd);
        });
      }
    });
    return out;
  }

  encode(text: string, maxLength: number = this.modelMaxLength): Encoding {
    const room = maxLength - this.numPrefixTokens - this.numSuffixTokens;
    if (!(room >= 0)) throw new RangeError(`maxLength ${maxLength} leaves no room for the special tokens`);
    const pieces = this.pieces(text, room + 1);
    let truncatedAt: number | null = null;
    if (pieces.length > room) {
      truncatedAt = pieces[room].range[0];
      pieces.length = room;
    }
    const trim = ([a, b]: [number, number]): [number, number] => {
      let s = a;
      let e = b;
      while (s < e && WS.test(text[s])) s++;
      while (e > s && WS.test(text[e - 1])) e--;
      return s < e ? [s, e] : [a, b];
    };
    /**
     * The word of a piece: its pre-token word, narrowed to the whitespace-free run around the piece (pre-tokenizers
     * such as Metaspace-only setups keep spaces inside words). A whitespace-only piece is its own word.
     */
    const wordOf = (o: [number, number], w: [number, number]): [number, number] => {
      if (o[1] > o[0] && !/\S/u.test(text.slice(o[0], o[1]))) return o;
      let s = Math.max(w[0], Math.min(o[0], w[1]));
      let e = Math.min(w[1], Math.max(o[1], s));
      while (s > w[0] && !WS.test(text[s - 1])) s--;
      while (e < w[1] && !WS.test(text[e])) e++;
      return [s, e];
    };
    const tokens = this.postProcess(pieces.map((p) => p.token));
    if (tokens.length !== pieces.length + this.numPrefixTokens + this.numSuffixTokens)
      throw new Error('post-processor changed the number of tokens unexpectedly');
    const offsets: Array<[number, number] | null> = [];
    const wordRanges: Array<[number, number] | null> = [];
    for (let i = 0; i < tokens.length; i++) {
      const k = i - this.numPrefixTokens;
      if (k < 0 || k >= pieces.length) {
        offsets.push(null);
        wordRanges.push(null);
      } else {
        const o = trim(pieces[k].range);
        offsets.push(o);
        wordRanges.push(wordOf(o, trim(pieces[k].word)));
      }
    }
    const unk = this.unkId ?? this.padId;
    const ids = tokens.map((t) => this.addedByContent.get(t)?.id ?? this.tk.token_to_id(t) ?? unk);
    return { ids, tokens, offsets, wordRanges, truncatedAt };
  }

  maskIds(encoding: Encoding): number[] {
    return encoding.ids.map((id, i) => (encoding.offsets[i] === null ? id : this.maskId));
  }
}

/**
 * Loads tokenizer.json (required) with tokenizer_config.json, special_tokens_map.json and config.json (optional)
 * from a local model directory.
 */
export async function loadTokenizer(dir: string): Promise<OnnxTokenizer> {
  const tj = await readJsonIfExists(path.join(dir, 'tokenizer.json'));
  if (!tj)
    throw new Error(
      `${path.join(dir, 'tokenizer.json')} not found (a Hugging Face fast-tokenizer file is needed)`,
    );
  const [tc, sm, mc] = await Promise.all([
    readJsonIfExists(path.join(dir, 'tokenizer_config.json')),
    readJsonIfExists(path.join(dir, 'special_tokens_map.json')),
    readJsonIfExists(path.join(dir, 'config.json')),
  ]);
  return new HfOnnxTokenizer(tj, tc ?? {}, sm ?? {}, mc ?? {});
}

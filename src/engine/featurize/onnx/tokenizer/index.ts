/**
 * Hugging Face tokenizers (tokenizer.json) for the ONNX featurizer, with character offsets into the ORIGINAL text.
 *
 * The tokens and ids are those of @huggingface/tokenizers (the maintained JS port of `tokenizers`; WordPiece, BPE,
 * Unigram; BERT normalizer and pre-tokenizer, byte-level, Metaspace, template post-processing), whose encode() gives
 * no offsets. So encode() here runs the library's own pipeline pieces in the library's order (added-token split ->
 * normalizer -> pre-tokenizer -> model -> post-processor; the tests check the tokens equal the library's encode())
 * and tracks where every piece came from:
 *
 * 1. Sections (addedTokens.ts): the raw text is split at added tokens (e.g. a literal "[MASK]" in the text, as
 *    Hugging Face does), so every section is a known slice of the text.
 * 2. Normalization (normalize.ts): every normalized character points back to the source unit it came from.
 * 3. Pre-tokenization: each pre-token ("word") is decoded back to normalized text (byteLevel.ts: byte-level words
 *    through the GPT-2 byte table, Metaspace's "▁" as a space; a prefix space the pre-tokenizer added maps to
 *    nothing) and found in order in the normalized section.
 * 4. Model (pieces.ts): the model's pieces of a word are matched in order inside the word. A byte-level piece that
 *    holds only part of a character's UTF-8 bytes gets the whole character.
 *
 * Truncated texts are tokenized only as far as needed where that is exact (prefix.ts). Offsets are UTF-16
 * [start, end) into the text given to encode(), trimmed of surrounding whitespace (so "Ġworld" is "world"); special
 * tokens added by the post-processor have null. wordRanges give each piece its whole pre-token word's range (so
 * "un ##believ ##ably" all carry "unbelievably"). Truncation keeps the first maxLength - (number of added special
 * tokens) pieces.
 */
import { Tokenizer } from '@huggingface/tokenizers';
import { AddedTokenSplitter, type AddedTokenSpec, parseAddedTokens } from './addedTokens';
import { WordDecoder } from './byteLevel';
import {
  completeTokenizerJson,
  findComponent,
  type Json,
  type PieceMarks,
  pieceMarks,
  readTokenizerFiles,
  resolveSpecials,
  type TokenizerFiles,
} from './config';
import { type Aligned, makeNormalize, Normalizer, perCharOnAscii } from './normalize';
import { pieceRanges } from './pieces';
import { cutAt, prefixTokenizable } from './prefix';
import { toText, trim, wordOf } from './ranges';
import type { Encoding, OnnxTokenizer, TokenizerOptions } from './types';

export type { Encoding, OnnxTokenizer, TokenizerOptions } from './types';

interface Piece {
  token: string;
  /** Untrimmed [start, end) in the encoded text. */
  range: [number, number];
  word: [number, number];
}

/** The pieces of a text, and from which one on they belong to its last word (pieces.length if it was not reached). */
interface PieceRun {
  pieces: Piece[];
  lastWordAt: number;
}

/** Words whose pieces are remembered (modelWord), at most. */
const WORD_CACHE_SIZE = 200_000;

/** The first guess of characters per piece, for the prefix (adapted to the texts seen). */
const INITIAL_CHARS_PER_PIECE = 4;

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
  readonly tokenizesByPrefix: boolean;

  private readonly tk: Tokenizer;
  private readonly addedByContent = new Map<string, AddedTokenSpec>();
  private readonly rawSplitter: AddedTokenSplitter;
  private readonly normSplitter: AddedTokenSplitter;
  private readonly normalizer: Normalizer;
  private readonly decoder: WordDecoder;
  private readonly marks: PieceMarks;
  /** Running estimate of text characters per piece (sizes the prefix; never changes the result). */
  private charsPerPiece = INITIAL_CHARS_PER_PIECE;
  /** Pieces per word (modelWord); undefined when the model is not deterministic. */
  private readonly wordCache: Map<string, readonly string[]> | undefined;

  constructor(files: TokenizerFiles, options: TokenizerOptions) {
    const tj = completeTokenizerJson(files.tokenizer);
    this.tk = new Tokenizer(tj, files.tokenizerConfig);
    const model = (tj.model ?? {}) as Json;
    this.modelType = typeof model.type === 'string' ? model.type : 'unknown';

    const libNormalizer = this.tk.normalizer;
    this.normalizer = new Normalizer(
      makeNormalize(files.tokenizerConfig, libNormalizer ? (s) => libNormalizer(s) : null),
      perCharOnAscii(tj.normalizer, files.tokenizerConfig),
    );
    const raw: string[] = [];
    const normalized: string[] = [];
    for (const a of parseAddedTokens(tj.added_tokens as Json[])) {
      this.addedByContent.set(a.content, a);
      if (a.normalized && libNormalizer) {
        const nc = libNormalizer(a.content);
        this.addedByContent.set(nc, a);
        normalized.push(nc);
      } else raw.push(a.content);
    }
    this.rawSplitter = new AddedTokenSplitter(raw, this.addedByContent);
    this.normSplitter = new AddedTokenSplitter(normalized, this.addedByContent);
    this.tokenizesByPrefix =
      options.prefix !== false &&
      prefixTokenizable(tj, this.rawSplitter.spansWhitespace || this.normSplitter.spansWhitespace);

    const ms = findComponent(tj.pre_tokenizer, 'Metaspace');
    this.decoder = new WordDecoder(
      findComponent(tj.pre_tokenizer, 'ByteLevel') !== null,
      ms ? ((ms.replacement as string | undefined) ?? '\u2581') : null,
    );
    const unkToken = this.tk.model?.unk_token ?? null;
    const dropout = model.dropout;
    this.wordCache = typeof dropout === 'number' && dropout > 0 ? undefined : new Map();
    this.marks = pieceMarks(model, this.modelType, unkToken);

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

    const ids = resolveSpecials(this.tk, files, unkToken, prefix, suffix);
    this.unkId = ids.unkId;
    this.maskId = ids.maskId;
    this.hasMaskToken = ids.hasMaskToken;
    this.padId = ids.padId;
    this.clsId = ids.clsId;
    this.sepId = ids.sepId;
    this.vocabSize = ids.vocabSize;
    this.modelMaxLength = ids.modelMaxLength;
  }

  idToToken(id: number): string | undefined {
    return this.tk.id_to_token(id);
  }

  tokenToId(token: string): number | undefined {
    return this.tk.token_to_id(token);
  }

  private postProcess(tokens: string[]): string[] {
    const pp = this.tk.post_processor;
    return pp ? pp(tokens, null, true).tokens : tokens;
  }

  /**
   * The model's pieces of one word, remembered per word where the model is deterministic (no BPE dropout): words
   * repeat, and the library's WordPiece is quadratic in the word's length. Callers must not modify the array.
   */
  private modelWord(w: string): readonly string[] {
    const model = this.tk.model!;
    if (!this.wordCache) return model([w]) as string[];
    let p = this.wordCache.get(w);
    if (p === undefined) {
      if (this.wordCache.size >= WORD_CACHE_SIZE) this.wordCache.clear();
      p = model([w]) as string[];
      this.wordCache.set(w, p);
    }
    return p;
  }

  /** The pieces of the text (at least `limit` of them when there are), with untrimmed ranges and word ranges. */
  private pieces(text: string, limit: number): PieceRun {
    const out: Piece[] = [];
    const model = this.tk.model;
    if (!model) throw new Error('tokenizer.json has no model');
    /** Whether every word of the text was modeled (else the limit stopped it before the last word). */
    let complete = true;
    let lastWordAt = 0;
    const sections = this.rawSplitter.split(text);
    for (let sectionIndex = 0; sectionIndex < sections.length; sectionIndex++) {
      const [s0, s1, isAdded] = sections[sectionIndex];
      if (s1 <= s0) continue;
      if (out.length >= limit) {
        complete = false;
        break;
      }
      const sectionText = text.slice(s0, s1);
      if (isAdded || this.addedByContent.has(sectionText)) {
        lastWordAt = out.length;
        out.push({ token: sectionText, range: [s0, s1], word: [s0, s1] });
        continue;
      }
      const al = this.normalizer.align(sectionText);
      const N = al.text;
      if (N.length === 0) continue;
      for (const [u0, u1, isNormAdded] of this.normSplitter.split(N)) {
        if (u1 <= u0) continue;
        if (out.length >= limit) {
          complete = false;
          break;
        }
        const sub = N.slice(u0, u1);
        if (isNormAdded || this.addedByContent.has(sub)) {
          const r = toText(al, s0, u0, u1);
          lastWordAt = out.length;
          out.push({ token: sub, range: r, word: r });
          continue;
        }
        const words: string[] = this.tk.pre_tokenizer
          ? this.tk.pre_tokenizer(sub, { section_index: sectionIndex })
          : [sub];
        // Model only as many words as needed (pieces are per word, so a truncated text stops early).
        let need = limit - out.length;
        const perWord: Array<readonly string[]> = [];
        for (let wi = 0; wi < words.length && need > 0; wi++) {
          const p = this.modelWord(words[wi]);
          perWord.push(p);
          need -= p.length;
        }
        if (perWord.length < words.length) complete = false;
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
        for (let wi = 0; wi < words.length; wi++) {
          lastWordAt = out.length;
          cursor = this.placeWord(words[wi], perWord[wi], sub, cursor, al, s0, u0, out);
        }
      }
      if (!complete) break;
    }
    return { pieces: out, lastWordAt: complete ? lastWordAt : out.length };
  }

  /**
   * Finds a word in `sub` (a slice of the normalized section al at u0) from `cursor` on and pushes its pieces with
   * their text ranges; returns the cursor after the word.
   */
  private placeWord(
    w: string,
    wordPieces: readonly string[],
    sub: string,
    cursor: number,
    al: Aligned,
    s0: number,
    u0: number,
    out: Piece[],
  ): number {
    const d = this.decoder.identity ? { text: w, start: null, end: null } : this.decoder.decode(w);
    let at = sub.indexOf(d.text, cursor);
    let lead = 0;
    if (at < 0 && d.text.startsWith(' ')) {
      // A prefix space added by the pre-tokenizer.
      const k = sub.indexOf(d.text.slice(1), cursor);
      if (k >= 0) [at, lead] = [k, 1];
    }
    if (at < 0) at = Math.min(cursor, sub.length); // could not locate: approximate
    // Decoded text index k -> sub index: min(sub.length, at + max(0, k - lead)) (the synthetic lead maps to a point).
    const n = sub.length;
    const wordEnd = Math.min(n, at + Math.max(0, d.text.length - lead));
    const wordRange = toText(al, s0, u0 + Math.min(n, at), u0 + wordEnd);
    const pr = pieceRanges(w, wordPieces, this.marks);
    for (let pi = 0; pi < wordPieces.length; pi++) {
      const [a, b] = pr[pi];
      let r: [number, number];
      if (b > a) {
        const ks = d.start ? d.start[a] : a;
        const ke = d.end ? d.end[b - 1] : b;
        r = toText(
          al,
          s0,
          u0 + Math.min(n, at + Math.max(0, ks - lead)),
          u0 + Math.min(n, at + Math.max(0, ke - lead)),
        );
      } else {
        const p = a < w.length ? Math.min(n, at + Math.max(0, (d.start ? d.start[a] : a) - lead)) : wordEnd;
        r = toText(al, s0, u0 + p, u0 + p);
      }
      out.push({ token: wordPieces[pi], range: r, word: wordRange });
    }
    return Math.max(cursor, wordEnd);
  }

  /**
   * The first `limit` pieces of the text (more when there are): from a prefix where that is exact and the text is
   * long (the prefix grows until its pieces before the last word reach the limit), else from the whole text.
   */
  private leadingPieces(text: string, limit: number): Piece[] {
    if (!this.tokenizesByPrefix) return this.pieces(text, limit).pieces;
    let from = Math.ceil(limit * this.charsPerPiece * 1.25) + 16;
    for (;;) {
      const c = from < text.length ? cutAt(text, from) : text.length;
      const run = this.pieces(c < text.length ? text.slice(0, c) : text, limit);
      const n = run.pieces.length;
      if (c >= text.length || (n >= limit && run.lastWordAt >= limit)) {
        if (n >= limit) {
          // Characters per piece of this text, for the next text's first guess.
          const used = run.pieces[limit - 1].range[1];
          this.charsPerPiece = 0.9 * this.charsPerPiece + 0.1 * Math.max(1, used / limit);
        }
        return run.pieces;
      }
      from = 2 * c;
    }
  }

  encode(text: string, maxLength: number = this.modelMaxLength): Encoding {
    const room = maxLength - this.numPrefixTokens - this.numSuffixTokens;
    if (!(room >= 0)) throw new RangeError(`maxLength ${maxLength} leaves no room for the special tokens`);
    const pieces = this.leadingPieces(text, room + 1);
    let truncatedAt: number | null = null;
    if (pieces.length > room) {
      truncatedAt = pieces[room].range[0];
      pieces.length = room;
    }
    const tokens = this.postProcess(pieces.map((p) => p.token));
    if (tokens.length !== pieces.length + this.numPrefixTokens + this.numSuffixTokens)
      throw new Error('post-processor changed the number of tokens unexpectedly');
    const offsets: Array<[number, number] | null> = new Array<[number, number] | null>(tokens.length);
    const wordRanges: Array<[number, number] | null> = new Array<[number, number] | null>(tokens.length);
    const ids: number[] = new Array<number>(tokens.length);
    const unk = this.unkId ?? this.padId;
    for (let i = 0; i < tokens.length; i++) {
      const k = i - this.numPrefixTokens;
      if (k < 0 || k >= pieces.length) {
        offsets[i] = null;
        wordRanges[i] = null;
      } else {
        const o = trim(text, pieces[k].range);
        offsets[i] = o;
        wordRanges[i] = wordOf(text, o, trim(text, pieces[k].word));
      }
      const t = tokens[i];
      ids[i] = this.addedByContent.get(t)?.id ?? this.tk.token_to_id(t) ?? unk;
    }
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
export async function loadTokenizer(dir: string, options: TokenizerOptions = {}): Promise<OnnxTokenizer> {
  return new HfOnnxTokenizer(await readTokenizerFiles(dir), options);
}

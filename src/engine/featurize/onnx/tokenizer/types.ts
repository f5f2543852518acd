/** What the ONNX featurizer's tokenizer gives and promises (implemented in index.ts). */

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
  /** Whether truncated texts are tokenized only as far as needed (prefix.ts); the result is the same either way. */
  readonly tokenizesByPrefix: boolean;
  /** Encodes one text: [special prefix] pieces [special suffix], at most maxLength ids in all. */
  encode(text: string, maxLength?: number): Encoding;
  /** The baseline sequence: every token with a text offset replaced by the mask id, added specials kept. */
  maskIds(encoding: Encoding): number[];
  idToToken(id: number): string | undefined;
  tokenToId(token: string): number | undefined;
}

export interface TokenizerOptions {
  /** false: always tokenize whole texts (the tests compare the prefix path against it). Default: where exact. */
  prefix?: boolean;
}

/**
 * Reading a tokenizer folder and resolving what the featurizer needs from its configs: the special ids (mask, pad,
 * cls, sep, unk), the model's maximum length and the model's continuation marks. Local files only.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Tokenizer } from '@huggingface/tokenizers';

export type Json = Record<string, unknown>;

export interface TokenizerFiles {
  /** tokenizer.json (required). */
  tokenizer: Json;
  /** tokenizer_config.json, special_tokens_map.json, config.json; {} when absent. */
  tokenizerConfig: Json;
  specialMap: Json;
  modelConfig: Json;
}

function readJsonIfExists(file: string): Promise<Json | null> {
  return readFile(file, 'utf8').then(
    (s) => JSON.parse(s) as Json,
    (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return null;
      throw e;
    },
  );
}

/** tokenizer.json (required) with tokenizer_config.json, special_tokens_map.json and config.json (optional). */
export async function readTokenizerFiles(dir: string): Promise<TokenizerFiles> {
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
  return { tokenizer: tj, tokenizerConfig: tc ?? {}, specialMap: sm ?? {}, modelConfig: mc ?? {} };
}

/** tokenizer.json with the keys the library expects present (older exports omit some). */
export function completeTokenizerJson(tokenizerJson: Json): Json {
  const tj: Json = { ...tokenizerJson };
  for (const k of ['normalizer', 'pre_tokenizer', 'post_processor', 'decoder']) if (!(k in tj)) tj[k] = null;
  if (!Array.isArray(tj.added_tokens)) tj.added_tokens = [];
  return tj;
}

function tokenContent(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as Json).content === 'string')
    return (v as Json).content as string;
  return undefined;
}

/** The first component of this type in a (possibly Sequence) component config, or null. */
export function findComponent(cfg: unknown, type: string): Json | null {
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

/** The marks a model puts on sub-word pieces, removed before a piece is looked for in its word. */
export interface PieceMarks {
  /** WordPiece's continuing-subword prefix ("##"). */
  wpPrefix: string | null;
  /** BPE's end-of-word suffix ("</w>"), continuing-subword suffix and prefix. */
  bpeSuffix: string | null;
  bpeContSuffix: string | null;
  bpeContPrefix: string | null;
  unkToken: string | null;
}

export function pieceMarks(model: Json, modelType: string, unkToken: string | null): PieceMarks {
  return {
    wpPrefix:
      modelType === 'WordPiece' ? ((model.continuing_subword_prefix as string | undefined) ?? '##') : null,
    bpeSuffix: (model.end_of_word_suffix as string | undefined) || null,
    bpeContSuffix: (model.continuing_subword_suffix as string | undefined) || null,
    bpeContPrefix:
      modelType === 'BPE' ? (model.continuing_subword_prefix as string | undefined) || null : null,
    unkToken,
  };
}

export interface SpecialIds {
  unkId: number | null;
  maskId: number;
  hasMaskToken: boolean;
  padId: number;
  clsId: number;
  sepId: number;
  vocabSize: number;
  modelMaxLength: number;
}

/**
 * The special ids, from tokenizer_config.json / special_tokens_map.json, else the usual spellings, else the
 * post-processor's own specials (`prefix`, `suffix`: what it adds around one sequence); and the max length.
 */
export function resolveSpecials(
  tk: Tokenizer,
  files: TokenizerFiles,
  unkToken: string | null,
  prefix: readonly string[],
  suffix: readonly string[],
): SpecialIds {
  const { tokenizerConfig, specialMap, modelConfig } = files;
  let maxId = -1;
  for (const [, id] of tk.get_vocab(true)) maxId = Math.max(maxId, id);

  const cfgTok = (k: string) => tokenContent(tokenizerConfig[k]) ?? tokenContent(specialMap[k]);
  const firstKnown = (...cands: Array<string | undefined | null>) => {
    for (const c of cands) {
      const id = c == null ? undefined : tk.token_to_id(c);
      if (id !== undefined) return id;
    }
    return undefined;
  };
  const unkId = firstKnown(unkToken, cfgTok('unk_token'), '[UNK]', '<unk>') ?? null;
  const mask = firstKnown(cfgTok('mask_token'), '[MASK]', '<mask>');
  const pad = firstKnown(cfgTok('pad_token'), '[PAD]', '<pad>');
  const eos = firstKnown(cfgTok('eos_token'));
  const padId = pad ?? eos ?? unkId ?? 0;
  return {
    unkId,
    maskId: mask ?? unkId ?? padId,
    hasMaskToken: mask !== undefined,
    padId,
    clsId: firstKnown(cfgTok('cls_token'), prefix[0], cfgTok('bos_token')) ?? padId,
    sepId: firstKnown(cfgTok('sep_token'), suffix[suffix.length - 1], cfgTok('eos_token')) ?? padId,
    vocabSize: maxId + 1,
    modelMaxLength: modelMaxLength(tokenizerConfig, modelConfig),
  };
}

/** tokenizer_config.json's model_max_length, else config.json's position limit, else 512. */
function modelMaxLength(tokenizerConfig: Json, modelConfig: Json): number {
  const mml = tokenizerConfig.model_max_length;
  if (typeof mml === 'number' && mml > 0 && mml <= 1e6) return mml;
  const mpe = (modelConfig.max_position_embeddings ?? modelConfig.n_positions) as number | undefined;
  if (typeof mpe === 'number' && mpe > 0) {
    // RoBERTa-family position ids start after the padding index.
    const offset = ['roberta', 'xlm-roberta', 'camembert', 'longformer'].includes(
      String(modelConfig.model_type),
    )
      ? 2
      : 0;
    return mpe - offset;
  }
  return 512;
}

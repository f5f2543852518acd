/**
 * The featurizer registry: `--featurizer` / `memorization.featurizer` specs (`words`, `numeric`, `onnx:DIR`, ...) to
 * kinds. A new featurizer is one file with a FeaturizerKind and one line in FEATURIZERS.
 */
import type { ReadResult } from '../data/readDataset';
import type { FeaturizerStageOptions } from '../pipeline/options';
import { DataError, UsageError } from '../types';
import type { Featurizer } from './featurizer';
import { createEmbeddingsFeaturizer } from './embeddings/index';
import { NumericFeaturizer } from './numeric';
import { onnxDirOf, sharedOnnxFeaturizer } from './onnx/index';
import { WordsFeaturizer } from './words';

export interface FeaturizerKind {
  readonly name: string;
  /** One line for `--help` and the settings description. */
  readonly summary: string;
  /** `onnx:DIR`: the kind takes an argument after the colon. */
  readonly argument?: string;
  /** Reading must treat the file as a table of numeric columns. */
  readonly tabular?: boolean;
  create(
    read: Pick<ReadResult, 'file' | 'schema'>,
    options: FeaturizerStageOptions,
    argument: string | undefined,
  ): Promise<Featurizer>;
}

const words: FeaturizerKind = {
  name: 'words',
  summary: 'bundled 100-d word vectors (GloVe-derived), mean-pooled',
  async create() {
    return new WordsFeaturizer();
  },
};

const numeric: FeaturizerKind = {
  name: 'numeric',
  summary: 'one token per numeric column of a CSV/TSV, sum-pooled',
  tabular: true,
  async create(read) {
    if (!read.schema.numericFields?.length)
      throw new DataError(
        '--featurizer numeric needs a CSV/TSV whose feature columns are all numeric',
        read.file,
      );
    return new NumericFeaturizer();
  },
};

const onnx: FeaturizerKind = {
  name: 'onnx',
  argument: 'DIR',
  summary: 'your own transformer encoder: a local Hugging Face style ONNX export in DIR',
  async create(read, o, argument) {
    if (!read.schema.textFields.length)
      throw new DataError('--featurizer onnx:DIR needs text fields (use --text)', read.file);
    return sharedOnnxFeaturizer({
      dir: onnxDirOf(`onnx:${argument ?? ''}`)!,
      layer: o.onnxLayer,
      maxLength: o.onnxMaxLength,
      threads: o.onnxThreads,
      backend: o.backend,
      cacheDir: o.cacheDir,
    });
  },
};

const embeddings: FeaturizerKind = {
  name: 'embeddings',
  argument: 'FILE',
  summary:
    'precomputed per-row vectors (.parquet, .arrow, .npy, .jsonl), joined by id or row order; no token attributions',
  async create(_read, o, argument) {
    return createEmbeddingsFeaturizer(argument!, {
      idField: o.embeddingsId,
      vectorField: o.embeddingsVector,
    });
  },
};

export const FEATURIZERS = { words, numeric, onnx, embeddings } as const satisfies Record<
  string,
  FeaturizerKind
>;

export type FeaturizerName = keyof typeof FEATURIZERS;

/** 'words|numeric|onnx:DIR|...' for usage lines. */
export function featurizerSpecs(): string {
  return Object.values(FEATURIZERS)
    .map((k: FeaturizerKind) => (k.argument ? `${k.name}:${k.argument}` : k.name))
    .join('|');
}

/** The kind and argument of a spec; a usage error for anything else. */
export function parseFeaturizerSpec(spec: string): { kind: FeaturizerKind; argument?: string } {
  const colon = spec.indexOf(':');
  const name = colon < 0 ? spec : spec.slice(0, colon);
  const kind = (FEATURIZERS as Record<string, FeaturizerKind>)[name];
  if (!kind) throw new UsageError(`must be ${featurizerSpecs()}, got '${spec}'`, { option: 'featurizer' });
  const argument = colon < 0 ? undefined : spec.slice(colon + 1).trim();
  if (kind.argument && !argument)
    throw new UsageError(`${name}:${kind.argument} needs its ${kind.argument} (${name}:path/to/it)`, {
      option: 'featurizer',
    });
  if (!kind.argument && colon >= 0)
    throw new UsageError(`${name} takes no argument, got '${spec}'`, { option: 'featurizer' });
  return { kind, argument };
}

/** The featurizer for a read training file: as the options say, else numeric for tabular data, else words. */
export async function createFeaturizer(
  read: Pick<ReadResult, 'file' | 'schema'>,
  o: FeaturizerStageOptions,
): Promise<Featurizer> {
  const spec = o.featurizer ?? (read.schema.numericFields?.length ? 'numeric' : 'words');
  const { kind, argument } = parseFeaturizerSpec(spec);
  return kind.create(read, o, argument);
}

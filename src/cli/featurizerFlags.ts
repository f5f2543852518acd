/** The featurizer and backend flags shared by `memscore score` and `memscore eval`. */
import { BACKEND_SETTINGS } from '../engine/backends';
import type { FeaturizerSpec, ScoreOptions } from '../engine/scoreDataset';
import { UsageError } from '../engine/types';
import { choiceFlag, numberFlag } from './args';

export const FEATURIZER_VALUE_FLAGS = [
  'featurizer',
  'onnx-layer',
  'onnx-max-length',
  'onnx-threads',
  'backend',
  'cache-dir',
] as const;
export const FEATURIZER_BOOLEAN_FLAGS = ['no-cache'] as const;

export const FEATURIZER_USAGE = `featurizer: [--featurizer words|numeric|onnx:DIR] [--onnx-layer NAME|N] [--onnx-max-length N]
          [--onnx-threads N] [--backend auto|cpu|cuda] [--cache-dir DIR | --no-cache]`;

type Flags = Map<string, string | boolean>;

export function featurizerSpec(flags: Flags): FeaturizerSpec | undefined {
  const v = flags.get('featurizer');
  if (v === undefined) return undefined;
  if (v === 'words' || v === 'numeric') return v;
  if (typeof v === 'string' && v.startsWith('onnx:') && v.length > 'onnx:'.length) return v as FeaturizerSpec;
  throw new UsageError(`--featurizer must be words, numeric or onnx:DIR, got '${String(v)}'`);
}

export type FeaturizerFlagOptions = Pick<
  ScoreOptions,
  'featurizer' | 'onnxLayer' | 'onnxMaxLength' | 'onnxThreads' | 'backend' | 'cacheDir'
>;

export function featurizerOptions(flags: Flags): FeaturizerFlagOptions {
  const threads = numberFlag(flags, 'onnx-threads', true);
  if (threads !== undefined && threads < 0)
    throw new UsageError('--onnx-threads must be 0 (default) or more');
  const cacheDir = flags.get('cache-dir');
  if (flags.has('no-cache') && cacheDir !== undefined)
    throw new UsageError('--cache-dir and --no-cache exclude each other');
  return {
    featurizer: featurizerSpec(flags),
    onnxLayer: flags.get('onnx-layer') as string | undefined,
    onnxMaxLength: numberFlag(flags, 'onnx-max-length', true),
    onnxThreads: threads,
    backend: choiceFlag(flags, 'backend', BACKEND_SETTINGS),
    cacheDir: flags.has('no-cache') ? false : (cacheDir as string | undefined),
  };
}

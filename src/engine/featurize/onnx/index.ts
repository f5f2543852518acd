/**
 * `onnx:DIR` featurizer specs, and one featurizer (one onnxruntime session) per process for a given model and
 * settings: the worker reuses it across jobs, so a re-score neither reloads the model nor (with the cache) re-encodes.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../../types';
import { readExportDir } from './exportDir';
import { OnnxFeaturizer, type OnnxFeaturizerOptions } from './onnxFeaturizer';

export { OnnxFeaturizer, type OnnxFeaturizerOptions } from './onnxFeaturizer';

/** The DIR of an `onnx:DIR` spec, or undefined for other specs. */
export function onnxDirOf(spec: string | undefined): string | undefined {
  if (!spec?.startsWith('onnx:')) return undefined;
  const dir = spec.slice('onnx:'.length).trim();
  if (!dir) throw new UsageError('--featurizer onnx:DIR needs a folder (onnx:path/to/export)');
  return dir;
}

let last: { key: string; featurizer: Promise<OnnxFeaturizer> } | undefined;

/** The featurizer for these options, reused while the options and the model file stay the same. */
export async function sharedOnnxFeaturizer(options: OnnxFeaturizerOptions): Promise<OnnxFeaturizer> {
  const exp = readExportDir(options.dir);
  const st = statSync(exp.model);
  const key = JSON.stringify({
    ...options,
    dir: resolve(options.dir),
    model: [exp.model, st.size, st.mtimeMs],
  });
  if (last?.key === key) {
    try {
      return await last.featurizer;
    } catch {
      last = undefined;
    }
  }
  // The previous featurizer is not released here: a job may still be running on it; it goes with its last user.
  const featurizer = OnnxFeaturizer.create(options, exp);
  last = { key, featurizer };
  try {
    return await featurizer;
  } catch (err) {
    if (last?.featurizer === featurizer) last = undefined;
    throw err;
  }
}

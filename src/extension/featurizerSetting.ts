/**
 * The memorization.featurizer setting (pure, no vscode import): auto | words | numeric | onnx:DIR, where a relative
 * DIR is taken from the workspace folder and ~ is the home folder. auto leaves the choice to the engine (numeric for a
 * CSV whose feature columns are all numbers, words otherwise).
 */
import { isAbsolute, join, resolve } from 'node:path';
import type { FeaturizerSpec } from '../engine/scoreDataset';

export function featurizerOption(
  setting: string | undefined,
  workspaceFolder: string | undefined,
  home: string,
): FeaturizerSpec | undefined {
  const v = (setting ?? '').trim();
  if (!v || v === 'auto') return undefined;
  if (v === 'words' || v === 'numeric') return v;
  if (v.startsWith('onnx:')) {
    let dir = v.slice('onnx:'.length).trim();
    if (dir === '~' || dir.startsWith('~/')) dir = join(home, dir.slice(1));
    if (!isAbsolute(dir)) dir = resolve(workspaceFolder ?? home, dir);
    return `onnx:${dir}`;
  }
  // Unknown values go to the worker as they are, which answers with a clear usage error.
  return v as FeaturizerSpec;
}

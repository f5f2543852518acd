/** Reads the memorization.* settings. */
import { homedir } from 'node:os';
import * as vscode from 'vscode';
import type { BackendSetting } from '../engine/backends';
import { featurizerOption } from './featurizerSetting';
import type { ScoreParams } from '../protocol/messages';
import type { FieldChoice } from './fieldChoice';
import { type TierThresholds, normalizeThresholds } from './tiers';

export interface Settings {
  solver: 'auto' | 'exact' | 'ekfac' | 'lissa';
  l2: number;
  attribute: number;
  steps: number;
  tierThresholds: TierThresholds;
  maxTokensPerRow: number;
  backend: string;
  /** auto | words | numeric | onnx:DIR (DIR resolved against the workspace folder). */
  featurizer: string;
  onnxLayer: string;
  onnxMaxLength: number;
  onnxThreads: number;
}

export function readSettings(): Settings {
  const c = vscode.workspace.getConfiguration('memorization');
  return {
    solver: c.get<Settings['solver']>('solver', 'auto'),
    l2: c.get<number>('l2', 1e-3),
    attribute: c.get<number>('attribute', 100),
    steps: c.get<number>('steps', 50),
    tierThresholds: normalizeThresholds(c.get<Partial<TierThresholds>>('tierThresholds')),
    maxTokensPerRow: c.get<number>('maxTokensPerRow', 200),
    backend: c.get<string>('backend', 'auto'),
    featurizer: c.get<string>('featurizer', 'auto'),
    onnxLayer: c.get<string>('onnx.layer', ''),
    onnxMaxLength: c.get<number>('onnx.maxLength', 0),
    onnxThreads: c.get<number>('onnx.threads', 0),
  };
}

/** The options sent to the worker. */
export function scoreOptions(s: Settings): ScoreParams['options'] {
  return {
    solver: s.solver === 'auto' ? undefined : s.solver,
    l2: s.l2,
    attribute: s.attribute,
    steps: s.steps,
    ...featurizerOptions(s),
  };
}

/**
 * The featurizer and backend options (the ONNX ones only with an onnx: featurizer, so other results keep their keys),
 * for scoring and for the experiments (SuiteOptions takes the same keys).
 */
export function featurizerOptions(s: Settings): ScoreParams['options'] {
  const featurizer = featurizerOption(
    s.featurizer,
    vscode.workspace.workspaceFolders?.[0]?.uri.fsPath,
    homedir(),
  );
  if (!featurizer?.startsWith('onnx:')) return featurizer ? { featurizer } : {};
  return {
    featurizer,
    backend: (['auto', 'cpu', 'cuda'].includes(s.backend) ? s.backend : 'auto') as BackendSetting,
    ...(s.onnxLayer ? { onnxLayer: s.onnxLayer } : {}),
    ...(s.onnxMaxLength > 0 ? { onnxMaxLength: s.onnxMaxLength } : {}),
    ...(s.onnxThreads > 0 ? { onnxThreads: s.onnxThreads } : {}),
  };
}

/** What changes results (the cache key's settings part): the settings and the file's chosen fields. */
export function resultSettings(s: Settings, fields: FieldChoice = {}): unknown {
  return { options: scoreOptions(s), backend: s.backend, fields };
}

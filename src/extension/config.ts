/** Reads the memorization.* settings. */
import * as vscode from 'vscode';
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
  };
}

/** The options sent to the worker. */
export function scoreOptions(s: Settings): ScoreParams['options'] {
  return {
    solver: s.solver === 'auto' ? undefined : s.solver,
    l2: s.l2,
    attribute: s.attribute,
    steps: s.steps,
  };
}

/** What changes results (the cache key's settings part): the settings and the file's chosen fields. */
export function resultSettings(s: Settings, fields: FieldChoice = {}): unknown {
  return { options: scoreOptions(s), backend: s.backend, fields };
}

/** Reads the memorization.* settings (defaults: src/protocol/settings.ts) and turns them into job options. */
import { homedir } from 'node:os';
import * as vscode from 'vscode';
import { optionsFromSettings } from '../engine/pipeline/optionSources';
import type { ScoreJobOptions } from '../engine/pipeline/scoreJob';
import { SETTING_DEFAULTS, type SettingName } from '../protocol/settings';
import type { FieldChoice } from './fieldChoice';
import { settingPath } from './settingPath';
import { type TierThresholds, normalizeThresholds } from './tiers';

export interface Settings {
  /** Every memorization.* setting as read (unvalidated: jobOptions validates). */
  raw: { [K in SettingName]: (typeof SETTING_DEFAULTS)[K] };
  tierThresholds: TierThresholds;
  maxTokensPerRow: number;
  backend: string;
}

export function readSettings(): Settings {
  const c = vscode.workspace.getConfiguration('memorization');
  const raw = Object.fromEntries(
    (Object.keys(SETTING_DEFAULTS) as SettingName[]).map((k) => [k, c.get(k, SETTING_DEFAULTS[k])]),
  ) as Settings['raw'];
  return {
    raw,
    tierThresholds: normalizeThresholds(raw.tierThresholds),
    maxTokensPerRow: raw.maxTokensPerRow,
    backend: raw.backend,
  };
}

/**
 * The pipeline options the settings ask for (plus the file's chosen fields); a usage error naming the setting
 * (memorization.l2 ...) when one is invalid.
 */
export function jobOptions(s: Settings, fields: FieldChoice = {}): ScoreJobOptions {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const options = optionsFromSettings(
    (name) => s.raw[name as SettingName],
    (p) => settingPath(p, folder, homedir()),
  );
  return { ...options, data: { ...options.data, ...fields } };
}

/** What changes results (the cache key's settings part): the settings and the file's chosen fields. */
export function resultSettings(s: Settings, fields: FieldChoice = {}): unknown {
  const { tierThresholds: _t, maxTokensPerRow: _m, ...rest } = s.raw;
  return { settings: rest, fields };
}

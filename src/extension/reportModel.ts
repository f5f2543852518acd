/**
 * The pure parts of the "Run memorization experiments" command (no VS Code import; unit-tested): settings to worker
 * options, progress stages, which fields look like groups, which files look like test sets or flipped-id lists,
 * and PNG data URLs.
 */
import type { SuiteOptions } from '../engine/experiments/suite';
import type { PipelineOptions } from '../engine/pipeline/options';
import { SETTING_DEFAULTS } from '../protocol/settings';
import type { StageWeights } from './progress';
import { SCORABLE } from './scorable';

export interface ExperimentSettings {
  fractions: number[];
  seeds: number;
  holdout: number;
  reductionTop: number;
  reductionKs: number[];
  stabilityRuns: number;
  stabilitySubsample: number;
  /** Heads retrained for the retraining check; 0 skips it. */
  retrainings: number;
  subset: number;
}

export const DEFAULT_EXPERIMENT_SETTINGS: ExperimentSettings = {
  fractions: SETTING_DEFAULTS['experiments.fractions'],
  seeds: SETTING_DEFAULTS['experiments.seeds'],
  holdout: SETTING_DEFAULTS['experiments.holdout'],
  reductionTop: SETTING_DEFAULTS['experiments.reductionTop'],
  reductionKs: SETTING_DEFAULTS['experiments.reductionKs'],
  stabilityRuns: SETTING_DEFAULTS['experiments.stabilityRuns'],
  stabilitySubsample: SETTING_DEFAULTS['experiments.stabilitySubsample'],
  retrainings: SETTING_DEFAULTS['experiments.retrainings'],
  subset: SETTING_DEFAULTS['experiments.subset'],
};

const fractionList = (v: unknown, fallback: number[]): number[] => {
  if (!Array.isArray(v)) return fallback;
  const xs = v.filter((x): x is number => typeof x === 'number' && x > 0 && x < 1);
  return xs.length ? [...new Set(xs)].sort((a, b) => a - b) : fallback;
};
const inRange = (v: unknown, lo: number, hi: number, fallback: number): number =>
  typeof v === 'number' && v > lo && v < hi ? v : fallback;
const intAtLeast = (v: unknown, min: number, fallback: number): number =>
  typeof v === 'number' && Number.isInteger(v) && v >= min ? Math.min(v, 50) : fallback;

/** Settings as read (any shape) to valid values, falling back to the defaults field by field. */
export function normalizeExperimentSettings(
  raw: Partial<Record<keyof ExperimentSettings, unknown>>,
): ExperimentSettings {
  const d = DEFAULT_EXPERIMENT_SETTINGS;
  return {
    fractions: fractionList(raw.fractions, d.fractions),
    seeds: intAtLeast(raw.seeds, 1, d.seeds),
    holdout: inRange(raw.holdout, 0, 1, d.holdout),
    reductionTop: inRange(raw.reductionTop, 0, 1.0000001, d.reductionTop),
    reductionKs: fractionList(raw.reductionKs, d.reductionKs),
    stabilityRuns: intAtLeast(raw.stabilityRuns, 2, d.stabilityRuns),
    stabilitySubsample: inRange(raw.stabilitySubsample, 0, 1, d.stabilitySubsample),
    retrainings:
      typeof raw.retrainings === 'number' && Number.isInteger(raw.retrainings) && raw.retrainings >= 0
        ? Math.min(raw.retrainings, 1000)
        : d.retrainings,
    subset: inRange(raw.subset, 0, 1, d.subset),
  };
}

/** The worker's options for one report. */
export function suiteOptions(
  s: ExperimentSettings,
  pipeline: PipelineOptions,
  choice: { test?: string; groupField?: string; flipped?: { ids: string[]; file?: string } },
): SuiteOptions {
  return {
    ...pipeline,
    test: choice.test,
    holdout: s.holdout,
    removal: { fractions: s.fractions, seeds: s.seeds },
    reduction: { top: s.reductionTop, ks: s.reductionKs, steps: pipeline.attribution?.steps },
    stability: { seeds: s.stabilityRuns, fraction: s.stabilitySubsample },
    typicality: choice.groupField ? { field: choice.groupField } : undefined,
    // The likely-mislabeled summary needs nothing but the file; the noise experiment needs known flipped ids.
    mislabeled: {},
    noise: choice.flipped?.ids.length
      ? { flipped: choice.flipped.ids, file: choice.flipped.file }
      : undefined,
    memorization: s.retrainings > 0 ? { retrainings: s.retrainings, subset: s.subset } : undefined,
  };
}

/** The experiments job's stages, in order, with their rough share of the time. */
export const EXPERIMENT_STAGES: StageWeights = [
  ['reading', 0.05],
  ['featurizing', 0.15],
  ['testing', 0.03],
  ['removal', 0.2],
  ['reduction', 0.08],
  ['stability', 0.06],
  ['typicality', 0.02],
  ['mislabeled', 0.01],
  ['noise', 0.03],
  ['reasons', 0.03],
  ['memorization', 0.34],
];

const GROUP_NAME =
  /^(group|groups|category|categories|cat|source|domain|subset|split|cluster|type|kind|genre|topic|subgroup|population|origin|class_group|segment|language|lang)$/i;
const GROUP_PART = /(group|category|source|domain|subset|cluster|genre|topic|segment)/i;

/**
 * Fields that could group the rows for the typicality table: every field the model does not use, the group-like
 * names first (exact matches, then names containing such a word), each with whether it looks like a group.
 */
export function groupFieldCandidates(
  names: readonly string[],
  used: readonly (string | undefined)[],
): { name: string; groupLike: boolean }[] {
  const skip = new Set(used.filter((u): u is string => !!u));
  const free = names.filter((n) => !skip.has(n));
  const score = (n: string) => (GROUP_NAME.test(n) ? 0 : GROUP_PART.test(n) ? 1 : 2);
  return free
    .map((name, i) => ({ name, i, s: score(name) }))
    .sort((a, b) => a.s - b.s || a.i - b.i)
    .map(({ name, s }) => ({ name, groupLike: s < 2 }));
}

const TEST_NAME = /(^|[^a-z])(test|dev|valid|validation|val|eval|heldout|holdout)([^a-z]|$)/i;

/** Files of the training file's folder that could be its test set: test-like names first, then the same format. */
export function testFileCandidates(train: string, siblings: readonly string[]): string[] {
  const base = (p: string) => p.split(/[\\/]/).pop() ?? p;
  const ext = (p: string) => (/\.[^.]+$/.exec(p)?.[0] ?? '').toLowerCase();
  const trainBase = base(train);
  return siblings
    .filter((p) => base(p) !== trainBase && SCORABLE.test(p))
    .map((p, i) => ({ p, i, s: (TEST_NAME.test(base(p)) ? 0 : 2) + (ext(p) === ext(train) ? 0 : 1) }))
    .sort((a, b) => a.s - b.s || a.i - b.i)
    .map(({ p }) => p);
}

const FLIPPED_NAME = /(flip|noise|noisy|mislabel|corrupt|wrong)/i;

/**
 * JSON files of the training file's folder that could list its flipped ids: those sharing the training file's stem
 * (before `.train`/the extension) or with flip/noise-like names first.
 */
export function flippedFileCandidates(train: string, siblings: readonly string[]): string[] {
  const base = (p: string) => p.split(/[\\/]/).pop() ?? p;
  const stem = base(train)
    .replace(/\.[^.]+$/, '')
    .replace(/[._-]?(train|training)$/i, '')
    .toLowerCase();
  return siblings
    .filter((p) => /\.json$/i.test(p))
    .map((p, i) => {
      const b = base(p).toLowerCase();
      const s = (stem && b.startsWith(stem) ? 0 : 2) + (FLIPPED_NAME.test(b) ? 0 : 1);
      return { p, i, s };
    })
    .sort((a, b) => a.s - b.s || a.i - b.i)
    .map(({ p }) => p);
}

/** Largest PNG the webview may send (base64 text), far above a 1600 x 1000 chart or the whole report. */
export const MAX_PNG_DATA_URL = 40 * 1024 * 1024;

/** The bytes of a `data:image/png;base64,...` URL, or undefined when it is not a well-formed PNG. */
export function pngFromDataUrl(url: unknown): Buffer | undefined {
  const prefix = 'data:image/png;base64,';
  if (typeof url !== 'string' || !url.startsWith(prefix) || url.length > MAX_PNG_DATA_URL) return undefined;
  const b64 = url.slice(prefix.length);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) return undefined;
  const bytes = Buffer.from(b64, 'base64');
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  return bytes.length > 8 && signature.every((b, i) => bytes[i] === b) ? bytes : undefined;
}

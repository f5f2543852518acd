/**
 * The one place that turns CLI flags and VS Code settings into pipeline options. Each option is listed once, with
 * the stage it belongs to and how its value is read; OPTION_NAMES (src/protocol/optionNames.ts) spells its flag and
 * its setting. Both end in the same validateOptions (options.ts): the CLI calls it before reading, the worker before
 * any job (the extension host imports no engine code to validate), so a bad value gets the same message from either,
 * naming `--l2` or `memorization.l2`.
 */
import { type OptionKey, OPTION_NAMES } from '../../protocol/optionNames';
import { UsageError } from '../types';
import type { PipelineOptions } from './options';

type Kind = 'string' | 'list' | 'int' | 'number' | 'bool' | 'ints' | 'numberOrAuto';

interface OptionSpec {
  key: OptionKey;
  stage: keyof PipelineOptions;
  field: string;
  kind: Kind;
  /** A setting value that means "not set" (the setting's default: auto, empty, 0). */
  unset?: unknown;
  /** The CLI flag is a negation (--no-standardize sets standardize: false). */
  negated?: boolean;
  /** Values that are paths: relative ones are taken from the workspace folder (settings only). */
  path?: 'featurizer';
}

export const PIPELINE_OPTIONS: readonly OptionSpec[] = [
  { key: 'text', stage: 'data', field: 'text', kind: 'list' },
  { key: 'label', stage: 'data', field: 'label', kind: 'string' },
  { key: 'id', stage: 'data', field: 'id', kind: 'string' },
  { key: 'strict', stage: 'data', field: 'strict', kind: 'bool' },
  {
    key: 'featurizer',
    stage: 'featurizer',
    field: 'featurizer',
    kind: 'string',
    unset: 'auto',
    path: 'featurizer',
  },
  { key: 'standardize', stage: 'featurizer', field: 'standardize', kind: 'bool', negated: true },
  { key: 'onnxLayer', stage: 'featurizer', field: 'onnxLayer', kind: 'string', unset: '' },
  { key: 'onnxMaxLength', stage: 'featurizer', field: 'onnxMaxLength', kind: 'int', unset: 0 },
  { key: 'onnxThreads', stage: 'featurizer', field: 'onnxThreads', kind: 'int', unset: 0 },
  { key: 'backend', stage: 'featurizer', field: 'backend', kind: 'string', unset: 'auto' },
  { key: 'cacheDir', stage: 'featurizer', field: 'cacheDir', kind: 'string' },
  { key: 'embeddingsId', stage: 'featurizer', field: 'embeddingsId', kind: 'string', unset: '' },
  { key: 'embeddingsVector', stage: 'featurizer', field: 'embeddingsVector', kind: 'string', unset: '' },
  { key: 'model', stage: 'head', field: 'model', kind: 'string' },
  { key: 'hidden', stage: 'head', field: 'hidden', kind: 'ints' },
  { key: 'activation', stage: 'head', field: 'activation', kind: 'string' },
  { key: 'curvature', stage: 'head', field: 'curvature', kind: 'string', unset: 'auto' },
  { key: 'damping', stage: 'head', field: 'damping', kind: 'number', unset: -1 },
  { key: 'l2', stage: 'head', field: 'l2', kind: 'numberOrAuto' },
  { key: 'seed', stage: 'head', field: 'seed', kind: 'int' },
  { key: 'solver', stage: 'solver', field: 'solver', kind: 'string', unset: 'auto' },
  { key: 'attribute', stage: 'attribution', field: 'top', kind: 'int' },
  { key: 'steps', stage: 'attribution', field: 'steps', kind: 'int' },
  { key: 'reasons', stage: 'reasons', field: 'enabled', kind: 'bool', negated: true },
  { key: 'group', stage: 'reasons', field: 'group', kind: 'string', unset: '' },
];

/** The CLI flags the pipeline options take (for the argument parser): [value flags, boolean flags]. */
export function pipelineFlags(): { values: string[]; booleans: string[] } {
  const values: string[] = [];
  const booleans: string[] = ['no-cache'];
  for (const o of PIPELINE_OPTIONS) {
    const flag: string | undefined = (OPTION_NAMES[o.key] as { flag?: string }).flag;
    if (!flag) continue;
    (o.kind === 'bool' ? booleans : values).push(flag);
  }
  return { values, booleans };
}

function set(opts: PipelineOptions, o: OptionSpec, value: unknown): void {
  const stage = ((opts as Record<string, Record<string, unknown>>)[o.stage] ??= {});
  stage[o.field] = value;
}

/** A flag's text as the option's value; a usage error naming the flag otherwise. */
function parseFlag(o: OptionSpec, text: string): unknown {
  const fail = (what: string) => new UsageError(`must be ${what}, got '${text}'`, { option: o.key });
  switch (o.kind) {
    case 'string':
      if (!text) throw fail('a value');
      return text;
    case 'list': {
      const xs = text.split(',').map((s) => s.trim());
      if (xs.some((x) => !x)) throw fail('a comma-separated list of names');
      return xs;
    }
    case 'numberOrAuto':
    case 'int':
    case 'number': {
      if (o.kind === 'numberOrAuto' && text.trim() === 'auto') return 'auto';
      const x = text.trim() === '' ? NaN : Number(text);
      if (!Number.isFinite(x) || (o.kind === 'int' && !Number.isInteger(x)))
        throw fail(o.kind === 'int' ? 'an integer' : 'a number');
      return x;
    }
    case 'ints': {
      const xs = text.split(',').map((s) => (s.trim() === '' ? NaN : Number(s)));
      if (xs.some((x) => !Number.isInteger(x))) throw fail('comma-separated integers');
      return xs;
    }
    case 'bool':
      return true;
  }
}

/** Pipeline options from parsed CLI flags (name without `--` -> value, or true for a boolean flag). */
export function optionsFromFlags(flags: ReadonlyMap<string, string | boolean>): PipelineOptions {
  const opts: PipelineOptions = {};
  for (const o of PIPELINE_OPTIONS) {
    const flag: string | undefined = (OPTION_NAMES[o.key] as { flag?: string }).flag;
    if (!flag || !flags.has(flag)) continue;
    const v = flags.get(flag)!;
    if (o.kind === 'bool') set(opts, o, o.negated ? false : true);
    else set(opts, o, parseFlag(o, typeof v === 'string' ? v : ''));
  }
  if (flags.has('no-cache')) {
    if (flags.has('cache-dir'))
      throw new UsageError('and --no-cache exclude each other', { option: 'cacheDir' });
    set(
      opts,
      PIPELINE_OPTIONS.find((o) => o.key === 'cacheDir')!,
      false,
    );
  }
  const seed = opts.head?.seed;
  if (seed !== undefined) opts.solver = { ...opts.solver, seed };
  return opts;
}

/**
 * Pipeline options from VS Code settings: `get(name)` reads `memorization.<name>`; `resolvePath` makes a relative
 * path (the DIR of onnx:DIR, the FILE of embeddings:FILE) absolute against the workspace folder.
 */
export function optionsFromSettings(
  get: (setting: string) => unknown,
  resolvePath: (p: string) => string,
): PipelineOptions {
  const opts: PipelineOptions = {};
  for (const o of PIPELINE_OPTIONS) {
    const setting: string | undefined = (OPTION_NAMES[o.key] as { setting?: string }).setting;
    if (!setting) continue;
    let v = get(setting);
    if (v === undefined || v === null || v === o.unset) continue;
    if (o.kind === 'ints' && Array.isArray(v) && !v.length) continue;
    if (typeof v === 'string') v = v.trim();
    if (o.path === 'featurizer' && typeof v === 'string') v = resolveSpecPath(v, resolvePath);
    set(opts, o, v);
  }
  return opts;
}

/** `kind:PATH` with PATH resolved (kinds that take a path argument); other specs as they are. */
function resolveSpecPath(spec: string, resolvePath: (p: string) => string): string {
  const colon = spec.indexOf(':');
  if (colon <= 0) return spec;
  const arg = spec.slice(colon + 1).trim();
  return arg ? `${spec.slice(0, colon)}:${resolvePath(arg)}` : spec;
}

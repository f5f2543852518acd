/**
 * Command-line parsing on node:util's parseArgs, strict: an unknown option, an option given twice, a value option
 * without a value (`--out --summary s.json`), a value given to a flag (`--strict=yes`) and an empty value
 * (`--out ''`) are usage errors. A negative number may follow its option (`--seed -1` reads as `--seed=-1`) so
 * that the range check, not the parser, answers it.
 */
import { parseArgs as nodeParseArgs } from 'node:util';
import { UsageError } from '../engine/types';

export type Flags = Map<string, string | boolean>;

const NEGATIVE_NUMBER = /^-(\d|\.\d)/;

export function parseArgs(
  argv: string[],
  spec: { values: readonly string[]; booleans: readonly string[] },
): { positional: string[]; flags: Flags } {
  const valueNames = new Set(spec.values);
  const booleanNames = new Set(spec.booleans);
  // `--seed -1`: util.parseArgs would take -1 for an option; glue a negative number to its option instead.
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      args.push(...argv.slice(i));
      break;
    }
    if (
      a.startsWith('--') &&
      !a.includes('=') &&
      valueNames.has(a.slice(2)) &&
      NEGATIVE_NUMBER.test(argv[i + 1] ?? '')
    ) {
      args.push(`${a}=${argv[++i]}`);
    } else args.push(a);
  }
  const options: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const n of valueNames) options[n] = { type: 'string' };
  for (const n of booleanNames) options[n] = { type: 'boolean' };
  const { tokens } = nodeParseArgs({ args, options, strict: false, allowPositionals: true, tokens: true });
  const positional: string[] = [];
  const flags: Flags = new Map();
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k];
    if (t.kind === 'positional') {
      positional.push(t.value);
      continue;
    }
    if (t.kind === 'option-terminator') continue;
    const shown = t.rawName;
    if (!valueNames.has(t.name) && !booleanNames.has(t.name)) throw new UsageError(`unknown option ${shown}`);
    if (flags.has(t.name)) throw new UsageError(`${shown} is given twice`);
    if (booleanNames.has(t.name)) {
      if (t.inlineValue) throw new UsageError(`${shown} takes no value (got '${t.value}')`);
      flags.set(t.name, true);
      continue;
    }
    // `--out --summary s.json`: the next argument is an option, not the value (a value starting with '-' is
    // written --out=-x).
    if (t.value === undefined || (!t.inlineValue && t.value.startsWith('-'))) {
      const hint =
        t.value !== undefined
          ? ` (${t.value} follows it; to give a value that starts with '-', write ${shown}=VALUE)`
          : '';
      throw new UsageError(`${shown} needs a value${hint}`);
    }
    if (t.value.trim() === '') throw new UsageError(`${shown} needs a value (got an empty one)`);
    flags.set(t.name, t.value);
  }
  return { positional, flags };
}

/** A numeric flag's value, or undefined when absent. `integer`: whole numbers only. Range checks are the caller's. */
export function numberFlag(flags: Flags, name: string, integer = false): number | undefined {
  const v = flags.get(name);
  if (v === undefined) return undefined;
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n)))
    throw new UsageError(`--${name} must be ${integer ? 'an integer' : 'a number'}, got '${String(v)}'`);
  return n;
}

/** An integer flag in [min, max] (either bound optional), or undefined when absent. */
export function intFlag(
  flags: Flags,
  name: string,
  range: { min?: number; max?: number } = {},
): number | undefined {
  const n = numberFlag(flags, name, true);
  if (n === undefined) return undefined;
  const { min, max } = range;
  if ((min !== undefined && n < min) || (max !== undefined && n > max)) {
    const want =
      min !== undefined && max !== undefined
        ? `from ${min} to ${max}`
        : min !== undefined
          ? `of at least ${min}`
          : `of at most ${max}`;
    throw new UsageError(`--${name} must be an integer ${want}, got ${n}`);
  }
  return n;
}

export function choiceFlag<T extends string>(
  flags: Flags,
  name: string,
  choices: readonly T[],
): T | undefined {
  const v = flags.get(name);
  if (v === undefined) return undefined;
  if (!choices.includes(v as T))
    throw new UsageError(`--${name} must be one of ${choices.join('|')}, got '${String(v)}'`);
  return v as T;
}

/** A string flag's value (never empty: parseArgs refuses that), or undefined when absent. */
export function stringFlag(flags: Flags, name: string): string | undefined {
  const v = flags.get(name);
  return typeof v === 'string' ? v : undefined;
}

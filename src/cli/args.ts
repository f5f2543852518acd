import { UsageError } from '../engine/types';

/** Minimal strict argument parser: --flag value, --flag=value, --no-flag; unknown flags are usage errors. */
export function parseArgs(
  argv: string[],
  spec: { values: string[]; booleans: string[] },
): { positional: string[]; flags: Map<string, string | boolean> } {
  const positional: string[] = [];
  const flags = new Map<string, string | boolean>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    if (spec.booleans.includes(name)) {
      flags.set(name, true);
    } else if (spec.values.includes(name)) {
      const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      flags.set(name, value);
    } else {
      throw new UsageError(`unknown option --${name}`);
    }
  }
  return { positional, flags };
}

export function numberFlag(
  flags: Map<string, string | boolean>,
  name: string,
  integer = false,
): number | undefined {
  const v = flags.get(name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || !Number.isFinite(n) || (integer && !Number.isInteger(n)))
    throw new UsageError(`--${name} must be ${integer ? 'an integer' : 'a number'}, got '${v}'`);
  return n;
}

export function choiceFlag<T extends string>(
  flags: Map<string, string | boolean>,
  name: string,
  choices: readonly T[],
): T | undefined {
  const v = flags.get(name);
  if (v === undefined) return undefined;
  if (!choices.includes(v as T))
    throw new UsageError(`--${name} must be one of ${choices.join('|')}, got '${v}'`);
  return v as T;
}

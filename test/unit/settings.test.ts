/**
 * One home for settings and options: package.json declares exactly the defaults of src/protocol/settings.ts, the
 * registries' names are the settings' enums, and the one converter turns CLI flags and settings into the same
 * validated pipeline options, its errors naming `--l2` or `memorization.l2`.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { FEATURIZERS } from '../../src/engine/featurize/registry';
import { SOLVER_NAMES } from '../../src/engine/influence/solvers';
import { HEAD_NAMES } from '../../src/engine/model/heads';
import { validateOptions } from '../../src/engine/pipeline/options';
import {
  optionsFromFlags as fromFlags,
  optionsFromSettings as fromSettings,
} from '../../src/engine/pipeline/optionSources';
import { UsageError } from '../../src/engine/types';
import { OPTION_NAMES } from '../../src/protocol/optionNames';
import { SETTING_DEFAULTS } from '../../src/protocol/settings';

const pkg = JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8')) as {
  contributes: {
    configuration: { properties: Record<string, { default: unknown; enum?: string[]; pattern?: string }> };
  };
};
const props = pkg.contributes.configuration.properties;

/** As the CLI and the worker use them: converted, then validated. */
const optionsFromFlags = (flags: Map<string, string | boolean>) => {
  const o = fromFlags(flags);
  validateOptions(o);
  return o;
};
const optionsFromSettings = (get: (n: string) => unknown, resolve: (p: string) => string) => {
  const o = fromSettings(get, resolve);
  validateOptions(o);
  return o;
};

test('settings: package.json declares exactly the defaults of src/protocol/settings.ts', () => {
  const declared = Object.keys(props).map((k) => k.replace(/^memorization\./, ''));
  assert.deepEqual([...declared].sort(), Object.keys(SETTING_DEFAULTS).sort());
  for (const [name, value] of Object.entries(SETTING_DEFAULTS))
    assert.deepEqual(props[`memorization.${name}`].default, value, `memorization.${name}`);
});

test("settings: the enums are the registries' names; every option's setting exists", () => {
  assert.deepEqual(props['memorization.model'].enum, HEAD_NAMES);
  assert.deepEqual(props['memorization.solver'].enum, ['auto', ...SOLVER_NAMES]);
  const kinds = Object.values(FEATURIZERS).map((k) => (k.argument ? `${k.name}:` : k.name));
  const pattern = new RegExp(props['memorization.featurizer'].pattern!);
  for (const k of kinds)
    assert.ok(pattern.test(k.endsWith(':') ? `${k}x` : k), `${k} matches the setting's pattern`);
  for (const [key, n] of Object.entries(OPTION_NAMES) as [string, { setting?: string }][])
    if (n.setting)
      assert.ok(props[`memorization.${n.setting}`], `${key}: memorization.${n.setting} in package.json`);
});

test('options: CLI flags and settings give the same pipeline options', () => {
  const flags = new Map<string, string | boolean>([
    ['text', 'subject,text'],
    ['l2', '0.01'],
    ['solver', 'ekfac'],
    ['attribute', '20'],
    ['steps', '10'],
    ['no-standardize', true],
    ['featurizer', 'words'],
  ]);
  const fromFlags = optionsFromFlags(flags);
  const settings: Record<string, unknown> = {
    ...SETTING_DEFAULTS,
    l2: 0.01,
    solver: 'ekfac',
    attribute: 20,
    steps: 10,
    standardize: false,
    featurizer: 'words',
  };
  const fromSettings = optionsFromSettings(
    (n) => settings[n],
    (p) => p,
  );
  assert.deepEqual(fromFlags.head?.l2, 0.01);
  assert.deepEqual(fromFlags.data, { text: ['subject', 'text'] });
  for (const stage of ['featurizer', 'solver', 'attribution'] as const)
    assert.deepEqual(fromFlags[stage], fromSettings[stage], stage);
  assert.equal(fromSettings.head?.l2, 0.01);
  // The settings' "not set" values (auto, empty, 0, null) leave the option to the pipeline's default.
  const defaults = optionsFromSettings(
    (n) => (SETTING_DEFAULTS as Record<string, unknown>)[n],
    (p) => p,
  );
  assert.equal(defaults.solver?.solver, undefined);
  assert.equal(defaults.featurizer?.featurizer, undefined);
  assert.equal(defaults.head?.damping, undefined);
  assert.equal(defaults.head?.hidden, undefined);
  assert.equal(optionsFromFlags(new Map([['l2', 'auto']])).head?.l2, 'auto');
});

test('options: a bad value is a usage error naming the flag in the CLI and the setting in VS Code', () => {
  const bad: [string, string, string, unknown][] = [
    ['l2', '-1', 'l2', -1],
    ['steps', '0', 'steps', 0],
    ['attribute', '-5', 'attribute', -5],
    ['solver', 'foo', 'solver', 'foo'],
    ['model', 'tree', 'model', 'tree'],
    ['hidden', '64', 'hidden', [64]],
  ];
  for (const [flag, text, setting, value] of bad) {
    assert.throws(
      () => optionsFromFlags(new Map([[flag, text]])),
      (e: unknown) => e instanceof UsageError && e.message.startsWith(`--${flag} `),
      `--${flag} ${text}`,
    );
    assert.throws(
      () =>
        optionsFromSettings(
          (n) => (n === setting ? value : undefined),
          (p) => p,
        ),
      (e: unknown) => e instanceof UsageError && e.forSettings().startsWith(`memorization.${setting} `),
      `memorization.${setting} = ${JSON.stringify(value)}`,
    );
  }
  assert.throws(() => optionsFromFlags(new Map([['l2', '1e-300']])), /--l2 .*too small/);
  assert.throws(() => optionsFromFlags(new Map([['featurizer', 'bogus']])), /--featurizer must be/);
  assert.throws(
    () => optionsFromFlags(new Map([['featurizer', 'onnx:']])),
    /--featurizer onnx:DIR needs its DIR/,
  );
});

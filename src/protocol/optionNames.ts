/**
 * Every user-facing option once: its CLI flag and its VS Code setting. Errors name an option by its key, and each
 * front end spells it its own way (`--l2` in the CLI, `memorization.l2` in VS Code). Options that only one front end
 * has carry only that name.
 */
export const OPTION_NAMES = {
  text: { flag: 'text' },
  label: { flag: 'label' },
  id: { flag: 'id' },
  strict: { flag: 'strict' },
  test: { flag: 'test' },
  featurizer: { flag: 'featurizer', setting: 'featurizer' },
  standardize: { flag: 'no-standardize', setting: 'standardize' },
  onnxLayer: { flag: 'onnx-layer', setting: 'onnx.layer' },
  onnxMaxLength: { flag: 'onnx-max-length', setting: 'onnx.maxLength' },
  onnxThreads: { flag: 'onnx-threads', setting: 'onnx.threads' },
  backend: { flag: 'backend', setting: 'backend' },
  cacheDir: { flag: 'cache-dir' },
  embeddingsId: { flag: 'embeddings-id', setting: 'embeddings.id' },
  embeddingsVector: { flag: 'embeddings-vector', setting: 'embeddings.vector' },
  model: { flag: 'model', setting: 'model' },
  hidden: { flag: 'hidden', setting: 'hidden' },
  activation: { flag: 'activation', setting: 'activation' },
  curvature: { flag: 'curvature', setting: 'curvature' },
  damping: { flag: 'damping', setting: 'damping' },
  l2: { flag: 'l2', setting: 'l2' },
  seed: { flag: 'seed' },
  solver: { flag: 'solver', setting: 'solver' },
  attribute: { flag: 'attribute', setting: 'attribute' },
  steps: { flag: 'steps', setting: 'steps' },
  group: { flag: 'group', setting: 'group' },
  reasons: { flag: 'no-reasons', setting: 'reasons' },
  holdout: { flag: 'holdout', setting: 'experiments.holdout' },
  retrainings: { flag: 'retrainings', setting: 'experiments.retrainings' },
  subset: { flag: 'subset', setting: 'experiments.subset' },
} as const satisfies Record<string, { flag?: string; setting?: string }>;

export type OptionKey = keyof typeof OPTION_NAMES;

export function cliFlagOf(key: OptionKey): string {
  const n: { flag?: string; setting?: string } = OPTION_NAMES[key];
  return n.flag ? `--${n.flag}` : `memorization.${n.setting}`;
}

export function settingOf(key: OptionKey): string {
  const n: { flag?: string; setting?: string } = OPTION_NAMES[key];
  return n.setting ? `memorization.${n.setting}` : `--${n.flag}`;
}

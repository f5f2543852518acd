/**
 * The default of every `memorization.*` setting, in one place. package.json's `contributes.configuration` must
 * declare the same defaults (a unit test checks it), and the extension reads each setting with its default from here.
 */
export const SETTING_DEFAULTS = {
  model: 'linear',
  hidden: [] as number[],
  activation: 'tanh',
  curvature: 'auto',
  damping: null as number | null,
  solver: 'auto',
  l2: 0.001,
  standardize: true,
  attribute: 100,
  steps: 50,
  reasons: true,
  group: '',
  tierThresholds: { top1: 99, top5: 95, top10: 90 },
  maxTokensPerRow: 200,
  backend: 'auto',
  featurizer: 'auto',
  'onnx.layer': '',
  'onnx.maxLength': 0,
  'onnx.threads': 0,
  'embeddings.id': '',
  'embeddings.vector': '',
  'experiments.fractions': [0.1, 0.3, 0.5],
  'experiments.seeds': 3,
  'experiments.holdout': 0.2,
  'experiments.reductionTop': 0.1,
  'experiments.reductionKs': [0.1, 0.3, 0.5],
  'experiments.stabilityRuns': 3,
  'experiments.stabilitySubsample': 0.9,
  'experiments.retrainings': 100,
  'experiments.subset': 0.7,
};

export type SettingName = keyof typeof SETTING_DEFAULTS;

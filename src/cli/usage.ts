/** Usage text shared by the commands. */
import { featurizerSpecs } from '../engine/featurize/registry';
import { SOLVER_NAMES } from '../engine/influence/solvers';
import { HEAD_NAMES } from '../engine/model/heads';

/** The pipeline flags every command that fits a head takes (score and eval). */
export const PIPELINE_USAGE = `fields:     [--text F1,F2] [--label F] [--id F] [--strict]
featurizer: [--featurizer ${featurizerSpecs()}] [--no-standardize] [--onnx-layer NAME|N]
            [--onnx-max-length N] [--onnx-threads N] [--backend auto|cpu|cuda] [--cache-dir DIR | --no-cache]
            [--embeddings-id F] [--embeddings-vector F]
head:       [--model ${HEAD_NAMES.join('|')}] [--l2 X|auto] [--hidden W1[,W2]] [--activation tanh|gelu]
            [--curvature hessian|gauss-newton] [--damping X] [--seed N]
solver:     [--solver ${SOLVER_NAMES.join('|')}]`;

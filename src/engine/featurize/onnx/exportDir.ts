/**
 * A Hugging Face style export folder, read from local files only: the ONNX encoder (model.onnx, or onnx/model.onnx as
 * some hub repositories lay it out), tokenizer.json and config.json. Nothing is ever downloaded.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '../../types';

export interface ExportDir {
  dir: string;
  model: string;
  /** model.onnx_data (external weights) when present: part of the cache key. */
  modelData?: string;
  tokenizer: string;
  config: Record<string, unknown>;
}

export function readExportDir(dirArg: string): ExportDir {
  const dir = resolve(dirArg);
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new UsageError(`--featurizer onnx:${dirArg}: ${dir} is not a folder`);
  const model = [join(dir, 'model.onnx'), join(dir, 'onnx', 'model.onnx')].find((p) => existsSync(p));
  if (!model)
    throw new UsageError(
      `--featurizer onnx:${dirArg}: no model.onnx in ${dir} (export one with optimum-cli export onnx, see the README)`,
    );
  const tokenizer = [join(dir, 'tokenizer.json'), join(dir, 'onnx', 'tokenizer.json')].find((p) =>
    existsSync(p),
  );
  if (!tokenizer)
    throw new UsageError(`--featurizer onnx:${dirArg}: no tokenizer.json in ${dir} (the export writes one)`);
  let config: Record<string, unknown> = {};
  const configFile = [join(dir, 'config.json'), join(dir, 'onnx', 'config.json')].find((p) => existsSync(p));
  if (configFile) {
    try {
      config = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new UsageError(
        `${configFile}: not valid JSON (${err instanceof Error ? err.message : String(err)})`,
      );
    }
  }
  const data = `${model}_data`;
  return { dir, model, modelData: existsSync(data) ? data : undefined, tokenizer, config };
}

/** config.json's position limit (max_position_embeddings, n_positions), if it gives one. */
export function configMaxPositions(config: Record<string, unknown>): number | undefined {
  for (const k of ['max_position_embeddings', 'n_positions', 'max_seq_len']) {
    const v = config[k];
    if (typeof v === 'number' && Number.isInteger(v) && v > 0) return v;
  }
  return undefined;
}

export const DEFAULT_LAYER = 'last_hidden_state';

/**
 * The encoder output to use as E. `layer` is an output name (`last_hidden_state`, `hidden_states.4`), or a number k
 * meaning hidden_states.k (0 = the embeddings; -1 = the last hidden_states output, -2 the one before...). Default: last_hidden_state, else the
 * last output the export offers.
 */
export function chooseOutput(outputNames: readonly string[], layer?: string): string {
  const hidden = outputNames
    .map((name) => ({ name, k: /^hidden_states?[._](\d+)$/.exec(name)?.[1] }))
    .filter((o): o is { name: string; k: string } => o.k !== undefined)
    .sort((a, b) => Number(a.k) - Number(b.k));
  const offered = () =>
    `the export offers: ${outputNames.join(', ')}${hidden.length ? ` (or a number 0..${hidden.length - 1})` : ''}`;
  if (layer === undefined || layer === '' || layer === 'last') {
    if (outputNames.includes(DEFAULT_LAYER)) return DEFAULT_LAYER;
    if (hidden.length) return hidden[hidden.length - 1].name;
    if (!outputNames.length) throw new UsageError('the ONNX model has no outputs');
    return outputNames[outputNames.length - 1];
  }
  if (outputNames.includes(layer)) return layer;
  if (/^-?\d+$/.test(layer)) {
    if (!hidden.length)
      throw new UsageError(
        `--onnx-layer ${layer}: this export has no hidden_states.N outputs; ${offered()}. See the README for exporting intermediate layers.`,
      );
    const k = Number(layer);
    const hit = k < 0 ? hidden[hidden.length + k] : hidden.find((o) => Number(o.k) === k);
    if (hit) return hit.name;
  }
  throw new UsageError(`--onnx-layer ${layer}: no such output; ${offered()}`);
}

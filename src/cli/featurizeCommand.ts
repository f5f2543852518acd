/**
 * `memscore featurize TRAIN --featurizer onnx:DIR|words|numeric --out FILE.parquet|.npy|.jsonl`: the pooled vector
 * of every row (what the head would see, before standardization), written in the format `--featurizer
 * embeddings:FILE` reads. So featurizing can run on another machine (a GPU box) and scoring here, or the reverse.
 */
import * as path from 'node:path';
import { readDataset } from '../engine/data/readDataset';
import {
  type EmbeddingsWriter,
  openEmbeddingsWriter,
  outputFormatOf,
} from '../engine/featurize/embeddings/write';
import type { EmbeddingDtype } from '../engine/featurize/embeddings/table';
import { createFeaturizer, parseFeaturizerSpec } from '../engine/featurize/registry';
import { validateOptions } from '../engine/pipeline/options';
import { PIPELINE_OPTIONS, optionsFromFlags } from '../engine/pipeline/optionSources';
import { OPTION_NAMES } from '../protocol/optionNames';
import { type SkippedRow, UsageError } from '../engine/types';
import { parseArgs } from './args';
import { checkOutputs, writeThroughTemporary } from './outputFiles';
import { stderrProgress } from './progress';
import { printSkipped } from './skippedRows';
import { forTerminal } from './terminal';

export const FEATURIZE_USAGE = `usage: memscore featurize TRAIN --out FEATURES.parquet|.npy|.jsonl [--dtype float64|float32]
          [--text F1,F2] [--label F] [--id F] [--strict]
          [--featurizer words|numeric|onnx:DIR] [--onnx-layer NAME|N] [--onnx-max-length N] [--onnx-threads N]
          [--backend auto|cpu|cuda] [--cache-dir DIR | --no-cache]

Writes each row's pooled feature vector with its id (Parquet: columns id and embedding; JSONL: {"id", "embedding"};
.npy: an n x d array in row order, no ids), for --featurizer embeddings:FILE. float64 (default) keeps the vectors
exact; float32 halves the file.`;

/** Rows pooled and written at a time. */
const BATCH = 256;

/** The data and featurizer flags of the pipeline (standardization happens after pooling, so not that one). */
function featurizeFlags(): { values: string[]; booleans: string[] } {
  const values: string[] = ['out', 'dtype'];
  const booleans: string[] = ['no-cache'];
  for (const o of PIPELINE_OPTIONS) {
    if ((o.stage !== 'data' && o.stage !== 'featurizer') || o.key === 'standardize') continue;
    const flag: string | undefined = (OPTION_NAMES[o.key] as { flag?: string }).flag;
    if (flag) (o.kind === 'bool' ? booleans : values).push(flag);
  }
  return { values, booleans };
}

/** Same file, by path or (when both exist) by device and inode: a link to the input is the input. */
export async function runFeaturize(
  argv: string[],
  write: (text: string) => void = (t) => void process.stdout.write(t),
): Promise<number> {
  if (!argv.length || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    write(`${FEATURIZE_USAGE}\n`);
    return argv.length ? 0 : 1;
  }
  const t0 = performance.now();
  const { positional, flags } = parseArgs(argv, featurizeFlags());
  if (positional.length !== 1) throw new UsageError('featurize needs exactly one TRAIN file');
  const train = positional[0];
  const out = flags.get('out');
  if (typeof out !== 'string' || !out)
    throw new UsageError('featurize needs --out FEATURES.parquet|.npy|.jsonl');
  const format = outputFormatOf(out);
  const dtypeFlag = flags.get('dtype') ?? 'float64';
  if (dtypeFlag !== 'float64' && dtypeFlag !== 'float32')
    throw new UsageError(`--dtype must be float64 or float32, got '${String(dtypeFlag)}'`);
  const dtype: EmbeddingDtype = dtypeFlag;
  const output = { flag: '--out', path: out };
  checkOutputs([output], [train]);
  const options = optionsFromFlags(flags);
  validateOptions(options);
  const spec = options.featurizer?.featurizer;
  if (spec?.startsWith('embeddings:'))
    throw new UsageError('embeddings:FILE has nothing to compute; use words, numeric or onnx:DIR', {
      option: 'featurizer',
    });

  const progress = stderrProgress();
  const tabular = spec ? parseFeaturizerSpec(spec).kind.tabular : undefined;
  const read = await readDataset(train, {
    ...options.data,
    onProgress: (p) => progress.update(p),
    tabular: tabular ? true : undefined,
    allowSingleClass: true,
  });
  const featurizer = await createFeaturizer(read, options.featurizer ?? {});
  featurizer.fit?.(read.rows);
  const description = (featurizer as { describe?: () => string }).describe?.() ?? featurizer.name;

  const metadata = {
    'memscore.featurizer': description,
    'memscore.source': path.basename(train),
    'memscore.idField': read.schema.idField ?? '(row index)',
    'memscore.dim': String(featurizer.dim),
  };
  const skipped: SkippedRow[] = [...read.skipped];
  let written = 0;
  let truncated = 0;
  try {
    await writeThroughTemporary(output, async (tmp) => {
      const writer: EmbeddingsWriter = await openEmbeddingsWriter(tmp, format, {
        dim: featurizer.dim,
        dtype,
        metadata,
      });
      try {
        const rows = read.rows;
        const D = featurizer.dim;
        for (let b = 0; b < rows.length; b += BATCH) {
          const batch = rows.slice(b, b + BATCH);
          const pooled = await featurizer.pool(batch);
          truncated += pooled.truncated?.size ?? 0;
          let ids = batch.map((r) => r.id);
          let X = pooled.X;
          if (pooled.missing?.size) {
            const keep = batch.map((_, k) => k).filter((k) => !pooled.missing!.has(k));
            for (const [k, reason] of pooled.missing) skipped.push({ line: batch[k].line, reason });
            ids = keep.map((k) => batch[k].id);
            X = new Float64Array(keep.length * D);
            keep.forEach((k, j) => X.set(pooled.X.subarray(k * D, (k + 1) * D), j * D));
          }
          await writer.write(ids, X);
          written += ids.length;
          progress.update({
            stage: 'featurizing',
            done: Math.min(b + BATCH, rows.length),
            total: rows.length,
          });
        }
        await writer.close();
      } catch (err) {
        await writer.abort();
        throw err;
      }
    });
  } finally {
    progress.done();
  }

  const lines = [
    `${written} vectors of ${featurizer.dim} ${dtype} written to ${out} (${format}${format === 'npy' ? ', no ids: joined by row order' : ', with ids'}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    `featurizer: ${description}; ${skipped.length} rows skipped`,
  ];
  if (truncated) lines.push(`truncated: ${truncated} rows were longer than the model's max length`);
  lines.push(
    `score with: memscore score ${train} --featurizer embeddings:${out} (and the same --text/--label/--id)`,
  );
  write(forTerminal(`${lines.join('\n')}\n`, { lines: true }));
  printSkipped(train, skipped);
  return 0;
}

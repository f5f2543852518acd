import { createWriteStream, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { SOLVER_NAMES } from '../engine/influence/solvers';
import { type ScoreResult, scoreDataset } from '../engine/scoreDataset';
import { DataError, UsageError } from '../engine/types';
import { choiceFlag, numberFlag, parseArgs } from './args';
import { EVAL_USAGE, runEval } from './evalCommands';
import {
  FEATURIZER_BOOLEAN_FLAGS,
  FEATURIZER_USAGE,
  FEATURIZER_VALUE_FLAGS,
  featurizerOptions,
} from './featurizerFlags';
import { stderrProgress } from './progress';

const USAGE = `usage: memscore score TRAIN [--test TEST] [--text F1,F2] [--label F] [--id F] [--featurizer words|numeric|onnx:DIR]
          [--no-standardize] [--model linear] [--solver exact|ekfac|lissa] [--l2 X] [--attribute N] [--steps N]
          [--seed N] [--out SCORES.jsonl] [--summary SUMMARY.json] [--strict]
${FEATURIZER_USAGE}

Scores every training row for memorization (Zheng & Jiang, ACL 2022): score = -grad P(y|x)^T H^-1 grad L(z).
Exit codes: 0 ok, 1 usage error, 2 data error.`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${USAGE}\n\n${EVAL_USAGE}\n`);
    return command ? 0 : 1;
  }
  if (command === 'eval') return runEval(rest);
  if (command !== 'score') throw new UsageError(`unknown command '${command}'`);
  const { positional, flags } = parseArgs(rest, {
    values: [
      'test',
      'text',
      'label',
      'id',
      ...FEATURIZER_VALUE_FLAGS,
      'model',
      'solver',
      'l2',
      'attribute',
      'steps',
      'seed',
      'out',
      'summary',
    ],
    booleans: ['no-standardize', 'strict', ...FEATURIZER_BOOLEAN_FLAGS],
  });
  if (positional.length !== 1) throw new UsageError('score needs exactly one TRAIN file');
  const featurizerFlags = featurizerOptions(flags);
  const progress = stderrProgress();
  const result = await scoreDataset(positional[0], {
    test: flags.get('test') as string | undefined,
    text: (flags.get('text') as string | undefined)?.split(',').map((s) => s.trim()),
    label: flags.get('label') as string | undefined,
    id: flags.get('id') as string | undefined,
    ...featurizerFlags,
    standardize: !flags.has('no-standardize'),
    model: choiceFlag(flags, 'model', ['linear'] as const),
    solver: choiceFlag(flags, 'solver', SOLVER_NAMES),
    l2: numberFlag(flags, 'l2'),
    attribute: numberFlag(flags, 'attribute', true),
    steps: numberFlag(flags, 'steps', true),
    seed: numberFlag(flags, 'seed', true),
    strict: flags.has('strict'),
    onProgress: (p) => progress.update(p),
  });
  progress.done();
  const out = flags.get('out') as string | undefined;
  if (out) await writeRows(out, result);
  const summaryFile = flags.get('summary') as string | undefined;
  if (summaryFile) writeFileSync(summaryFile, `${JSON.stringify(result.summary, null, 2)}\n`);
  printReport(result);
  return 0;
}

async function writeRows(file: string, result: ScoreResult): Promise<void> {
  const stream = createWriteStream(file);
  for (const r of result.rows) {
    const { completenessGap: _gap, ...row } = r;
    if (!stream.write(`${JSON.stringify(row)}\n`)) await once(stream, 'drain');
  }
  stream.end();
  await once(stream, 'finish');
}

function printReport({ rows, summary }: ScoreResult): void {
  const s = summary;
  const lines = [
    `${s.counts.rows} rows scored, ${s.counts.skipped} skipped (${s.file})`,
    `fields: label=${s.fields.label} text=${s.fields.text.join(',') || '-'}${s.fields.numeric ? ` numeric=${s.fields.numeric.length} columns` : ''}`,
    `model: ${s.featurizer} + ${s.model} (${s.parameters} parameters, l2=${s.l2}), |grad R| = ${s.training.gradNorm.toExponential(2)} after ${s.training.iterations} Newton steps`,
    `solver: ${s.solver}, backend: ${s.backend}`,
    ...(s.backendNotes ?? []).map((n) => `  ${n}`),
    `accuracy: train ${(100 * s.trainAccuracy).toFixed(2)}%${s.testAccuracy !== undefined ? `, test ${(100 * s.testAccuracy).toFixed(2)}%` : ''}`,
  ];
  if (s.featurizerCounters?.sessionRuns !== undefined) {
    const c = s.featurizerCounters;
    lines.push(
      `encoder: ${c.rowsEncoded} rows + ${c.baselineRowsEncoded} [MASK] baselines encoded in ${c.sessionRuns} session runs; cache ${c.cacheHits} hits, ${c.cacheMisses} misses, ${(c.cacheBytesWritten / 2 ** 20).toFixed(1)} MB written`,
    );
  }
  if (s.counts.truncated)
    lines.push(`truncated: ${s.counts.truncated} rows (the cut-off text is not scored; rows[].truncated)`);
  if (s.completeness)
    lines.push(
      `attributions: ${s.completeness.rows} rows, ${s.completeness.steps} steps, completeness gap mean ${(100 * s.completeness.meanGap).toFixed(4)}% max ${(100 * s.completeness.maxGap).toFixed(4)}%`,
    );
  lines.push(
    `seconds: ${Object.entries(s.seconds)
      .map(([k, v]) => `${k} ${v.toFixed(2)}`)
      .join(', ')}; peak memory ${s.peakMemoryMB.toFixed(0)} MB`,
  );
  for (const sk of s.skipped.slice(0, 5)) lines.push(`skipped line ${sk.line}: ${sk.reason}`);
  if (s.skipped.length > 5) lines.push(`... and ${s.skipped.length - 5} more skipped rows (see --summary)`);
  lines.push(
    '',
    'most memorized rows:',
    'rank  line  id                    label      pred       P(y|x)   score',
  );
  const top = [...rows].sort((a, b) => a.rank - b.rank).slice(0, 10);
  for (const r of top)
    lines.push(
      `${String(r.rank).padEnd(5)} ${String(r.line).padEnd(5)} ${r.id.slice(0, 20).padEnd(21)} ${r.label.slice(0, 10).padEnd(10)} ${r.pred
        .slice(0, 10)
        .padEnd(10)} ${r.prob.toFixed(3).padEnd(8)} ${r.score.toPrecision(4)}`,
    );
  process.stdout.write(`${lines.join('\n')}\n`);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`memscore: ${err.message}\n${USAGE}\n`);
      process.exitCode = 1;
    } else if (err instanceof DataError) {
      process.stderr.write(`memscore: ${err.message}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`memscore: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 3;
    }
  },
);

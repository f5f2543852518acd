import { checkFitOptions } from '../engine/pipeline/fit';
import { validateOptions } from '../engine/pipeline/options';
import { optionsFromFlags, pipelineFlags } from '../engine/pipeline/optionSources';
import { type ScoreState, runScoreJob } from '../engine/pipeline/scoreJob';
import { UsageError } from '../engine/types';
import { parseArgs } from './args';
import { reportFailure } from './failure';
import { type OutputWriter, checkOutputs, commitAll, openOutput } from './outputFiles';
import { printSkipped } from './skippedRows';
import { forTerminal } from './terminal';
import { EVAL_USAGE, runEval } from './evalCommands';
import { FEATURIZE_USAGE, runFeaturize } from './featurizeCommand';
import { stderrProgress } from './progress';
import { PIPELINE_USAGE } from './usage';

const USAGE = `usage: memscore score TRAIN [--test TEST] [--out SCORES.jsonl] [--summary SUMMARY.json]
          [--attribute N] [--steps N] [--group FIELD] [--no-reasons]
${PIPELINE_USAGE}

Scores every training row for memorization (Zheng & Jiang, ACL 2022): score = -grad P(y|x)^T H^-1 grad L(z).
Exit codes: 0 ok, 1 usage error (a flag, an output path), 2 data error (an input file), 3 a bug (MEMSCORE_DEBUG=1 prints its stack).`;

/** Warnings already printed while the job ran. */
const told = new Set<string>();

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${USAGE}\n\n${EVAL_USAGE}\n\n${FEATURIZE_USAGE}\n`);
    return command ? 0 : 1;
  }
  if (command === 'eval') return runEval(rest);
  if (command === 'featurize') return runFeaturize(rest);
  if (command !== 'score') throw new UsageError(`unknown command '${command}'`);
  const flagsSpec = pipelineFlags();
  const { positional, flags } = parseArgs(rest, {
    values: ['test', 'out', 'summary', ...flagsSpec.values],
    booleans: flagsSpec.booleans,
  });
  if (positional.length !== 1) throw new UsageError('score needs exactly one TRAIN file');
  const options = optionsFromFlags(flags);
  validateOptions(options);
  checkFitOptions(options);
  const out = flags.get('out') as string | undefined;
  const summaryFile = flags.get('summary') as string | undefined;
  // Before any work: an output that is an input, or that cannot be written, is refused now, not after the run.
  const spec = options.featurizer?.featurizer;
  checkOutputs(
    [
      out ? { flag: '--out', path: out } : undefined,
      summaryFile ? { flag: '--summary', path: summaryFile } : undefined,
    ],
    [
      positional[0],
      flags.get('test') as string | undefined,
      spec?.includes(':') ? spec.slice(spec.indexOf(':') + 1) : undefined,
    ],
  );
  const progress = stderrProgress();
  const state = await runScoreJob(
    positional[0],
    { ...options, test: flags.get('test') as string | undefined },
    {
      onProgress: (p) => progress.update(p),
      // A long fit is said before it runs (and not again with the summary's warnings).
      onWarning: (w) => {
        told.add(w);
        process.stderr.write(`memscore: warning: ${forTerminal(w)}\n`);
      },
    },
  );
  progress.done();
  // Both outputs are staged, then put in place together: a failure on one leaves the other as it was.
  const staged: OutputWriter[] = [];
  try {
    if (out) staged.push(stageRows(out, state));
    if (summaryFile) {
      const w = openOutput({ flag: '--summary', path: summaryFile });
      staged.push(w);
      w.write(`${JSON.stringify(state.result.summary, null, 2)}\n`);
    }
  } catch (err) {
    for (const w of staged) w.discard();
    throw err;
  }
  commitAll(staged);
  printReport(state);
  return 0;
}

/**
 * --out's rows, staged in a temporary file (see openOutput); the caller commits or discards it. Built one at a time
 * from the job's columns (a million row objects at once would be 290 MB).
 */
function stageRows(file: string, state: ScoreState): OutputWriter {
  const w = openOutput({ flag: '--out', path: file });
  try {
    // Lines joined into about a megabyte per write: one buffer per write, not one per row.
    let lines = '';
    for (let i = 0; i < state.rows.length; i++) {
      const { completenessGap: _gap, ...row } = state.rows.at(i);
      lines += `${JSON.stringify(row)}\n`;
      if (lines.length >= 1 << 20) {
        w.write(lines);
        lines = '';
      }
    }
    if (lines) w.write(lines);
  } catch (err) {
    w.discard();
    throw err;
  }
  return w;
}

function printReport(state: ScoreState): void {
  const s = state.result.summary;
  const lines = [
    `${s.counts.rows} rows scored, ${s.counts.skipped} skipped (${s.file})`,
    `fields: label=${s.fields.label} text=${s.fields.text.join(',') || '-'}${s.fields.numeric ? ` numeric=${s.fields.numeric.length} columns` : ''}`,
    `model: ${s.featurizer} (${s.input}) + ${s.head}, l2=${s.l2}; |grad R| = ${s.training.gradNorm.toExponential(2)} after ${s.training.iterations} ${s.training.method} steps`,
    `solver: ${s.solver} on the ${s.curvature}${s.damping ? ` + ${s.damping} I` : ''}, backend: ${s.backend}`,
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
  if (s.reasons)
    lines.push(
      `reasons: ${Object.entries(s.reasons.counts)
        .map(([k, v]) => `${k} ${v}`)
        .join(
          ', ',
        )} (${s.reasons.withAnyReason} rows with any)${s.duplicates ? `; ${s.duplicates.total} groups of duplicate texts` : ''}`,
    );
  if (s.groups) {
    const kinds = Object.keys(s.groups.all.reasons);
    lines.push(
      `by '${s.groups.field}': group (rows) mean percentile, share in the top 10%, share per reason (${kinds.join(', ')})`,
    );
    for (const g of [...s.groups.groups, s.groups.all])
      lines.push(
        `  ${g.group} (${g.rows}): ${g.meanPercentile.toFixed(1)}, ${(100 * g.top10Share).toFixed(1)}%; ${kinds
          .map((k) => `${(100 * g.reasons[k as keyof typeof g.reasons]).toFixed(1)}%`)
          .join(' ')}`,
      );
  }
  lines.push(
    `seconds: ${Object.entries(s.seconds)
      .map(([k, v]) => `${k} ${v.toFixed(2)}`)
      .join(', ')}; peak memory ${s.peakMemoryMB.toFixed(0)} MB`,
  );
  lines.push(
    '',
    'most memorized rows:',
    'rank  line  id                    label      pred       P(y|x)   score',
  );
  const top = state.rows.top(10);
  for (const r of top)
    lines.push(
      `${String(r.rank).padEnd(5)} ${String(r.line).padEnd(5)} ${r.id.slice(0, 20).padEnd(21)} ${r.label.slice(0, 10).padEnd(10)} ${r.pred
        .slice(0, 10)
        .padEnd(10)} ${r.prob.toFixed(3).padEnd(8)} ${r.score.toPrecision(4)}`,
    );
  process.stdout.write(`${lines.map((l) => forTerminal(l)).join('\n')}\n`);
  printSkipped(s.file, s.skipped, '--summary');
  // Every warning of the summary, on stderr: a switch made for the user must never be silent.
  for (const w of s.warnings)
    if (!told.has(w)) process.stderr.write(`memscore: warning: ${forTerminal(w)}\n`);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // One line and exit 1 (usage) or 2 (data); 3 is a bug (src/cli/failure.ts).
    process.exitCode = reportFailure(err);
  },
);

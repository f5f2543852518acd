// Shared by the scale benchmarks (bench-brown, bench-million, bench-wide, bench-embeddings, bench-classes): runs
// `memscore` (dist/cli.js, or MEMSCORE_CLI=path for another build, e.g. a "before" copy) under /usr/bin/time and
// prints wall and CPU seconds, peak RSS, the load average around the run, and the summary's seconds per stage.
// The machine is shared: CPU seconds move less with other load than wall seconds do.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const cli = resolve(process.env.MEMSCORE_CLI ?? 'dist/cli.js');

/** A fresh temp folder for one benchmark's files. */
export function benchDir(name) {
  return mkdtempSync(join(tmpdir(), `memscore-bench-${name}-`));
}

const load = () =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');

/**
 * Runs `memscore ...args`; returns { wall, cpu, rssMB, summary } (summary: the --summary file when args write one).
 * Stops with the command's stderr when it fails, or after timeoutS seconds (a benchmark never runs for an hour).
 */
export function runCli(label, args, { summary, timeoutS = 1800, env } = {}) {
  const before = load();
  const t0 = performance.now();
  const timeFile = join(tmpdir(), `memscore-bench-time-${process.pid}-${Date.now()}.txt`);
  const useTime = existsSync('/usr/bin/time') && existsSync('/usr/bin/timeout');
  // timeout(1) inside time(1): the limit kills memscore itself (time does not pass a signal on to its child).
  const cmd = useTime ? '/usr/bin/time' : process.execPath;
  const argv = useTime
    ? [
        '-f',
        '%e %U %S %M',
        '-o',
        timeFile,
        '/usr/bin/timeout',
        '-s',
        'KILL',
        String(timeoutS),
        process.execPath,
        cli,
        ...args,
      ]
    : [cli, ...args];
  const res = spawnSync(cmd, argv, {
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: useTime ? undefined : timeoutS * 1000,
    env: { ...process.env, ...env },
    maxBuffer: 64 << 20,
  });
  const wall = (performance.now() - t0) / 1000;
  const stderr = res.stderr?.toString() ?? '';
  if (res.error || res.status !== 0) {
    console.log(
      `${label}: FAILED after ${wall.toFixed(1)} s (${res.error?.message ?? `exit ${res.status}`})`,
    );
    console.log(stderr.split('\n').slice(-15).join('\n'));
    return { wall, failed: true, stderr };
  }
  let cpu = NaN;
  let rssMB = NaN;
  if (useTime && existsSync(timeFile)) {
    const [, u, s, kb] = readFileSync(timeFile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
    cpu = u + s;
    rssMB = kb / 1024;
  }
  const out = { wall, cpu, rssMB, stderr };
  if (summary && existsSync(summary)) out.summary = JSON.parse(readFileSync(summary, 'utf8'));
  console.log(
    `${label}: ${wall.toFixed(1)} s wall, ${cpu.toFixed(1)} s CPU, peak RSS ${rssMB.toFixed(0)} MB; load average ${before} -> ${load()}`,
  );
  if (out.summary) printStages(out.summary);
  return out;
}

/** Seconds per stage from a score summary, with the solver and the dense-math backend. */
export function printStages(s) {
  const stages = Object.entries(s.seconds ?? {})
    .map(([k, v]) => `${k} ${v.toFixed(2)}`)
    .join(', ');
  console.log(
    `  ${s.counts?.rows} rows, ${s.parameters} parameters, solver ${s.solver}, dense math ${s.backends?.training ?? '?'}; ${stages} s; peak ${s.peakMemoryMB?.toFixed(0)} MB (in-process sample)`,
  );
  if (s.warnings?.length) for (const w of s.warnings) console.log(`  warning: ${w}`);
}

/** The git revision of the working tree, for the record. */
export function revision() {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD']).toString().trim();
  } catch {
    return 'unknown';
  }
}

import type { Progress } from '../engine/types';

/** Progress on stderr: a redrawn bar with rate and ETA on a terminal, plain lines (one per stage step) otherwise. */
export function stderrProgress(): { update(p: Progress): void; done(): void } {
  const tty = process.stderr.isTTY === true;
  let stage = '';
  let stageStart = Date.now();
  let lastPrint = 0;
  let lastPlainDecile = -1;
  return {
    update(p) {
      const now = Date.now();
      if (p.stage !== stage) {
        if (tty && stage) process.stderr.write('\n');
        stage = p.stage;
        stageStart = now;
        lastPlainDecile = -1;
      }
      const frac = p.total > 0 ? Math.min(1, p.done / p.total) : 0;
      const elapsed = (now - stageStart) / 1000;
      const rate = elapsed > 0 ? p.done / elapsed : 0;
      const eta = rate > 0 && p.total > p.done ? (p.total - p.done) / rate : 0;
      const unit = p.stage === 'reading' ? 'B' : '';
      const text =
        `${p.stage.padEnd(12)} ${fmt(p.done)}${unit}/${fmt(p.total)}${unit} ${rate ? `${fmt(rate)}${unit}/s` : ''} ${
          eta ? `ETA ${eta.toFixed(0)}s` : ''
        } ${p.message ?? ''}`.trimEnd();
      if (tty) {
        if (now - lastPrint < 80 && p.done < p.total) return;
        lastPrint = now;
        const width = 24;
        const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, '.');
        process.stderr.write(`\r[${bar}] ${text}`.padEnd(100).slice(0, 140));
      } else {
        const decile = Math.floor(frac * 10);
        if (decile === lastPlainDecile && p.stage !== 'training') return;
        lastPlainDecile = decile;
        process.stderr.write(`${text}\n`);
      }
    },
    done() {
      if (tty && stage) process.stderr.write('\n');
    },
  };
}

function fmt(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(0)}k`;
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

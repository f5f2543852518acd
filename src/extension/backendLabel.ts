/** Status-bar wording for the backends that ran each stage (pure, no vscode import). */
import type { StageBackends } from '../engine/backends';
import type { WorkerInfo } from '../protocol/messages';

/** A few characters for the status bar text: "onnx cpu", "onnx cuda" or "js"; undefined without results. */
export function shortBackend(b: StageBackends | undefined): string | undefined {
  if (!b) return undefined;
  const m = /onnxruntime\S*(?: [\d.]+)? (cpu|cuda)/.exec(b.featurizing);
  return m ? `onnx ${m[1]}` : 'js';
}

/** Tooltip lines: per-stage backends of the shown results (or the worker's last run), notes, availability. */
export function backendTooltip(
  stages: StageBackends | undefined,
  notes: readonly string[] | undefined,
  info: WorkerInfo | undefined,
  setting: string,
): string {
  const lines: string[] = [];
  const b = stages ?? info?.lastRun;
  if (b) {
    lines.push(`Featurizing: ${b.featurizing}`);
    const dense = [b.training, b.hessian, b.scoring, b.attributing];
    if (dense.every((d) => d === dense[0]))
      lines.push(`Training, Hessian, scoring, attributions: ${dense[0]}`);
    else
      lines.push(
        `Training: ${b.training}`,
        `Hessian: ${b.hessian}`,
        `Scoring: ${b.scoring}`,
        `Attributions: ${b.attributing}`,
      );
  } else lines.push(`Backend: ${info?.backend ?? setting}`);
  for (const n of notes ?? []) lines.push(`Note: ${n}`);
  lines.push(`Backend setting: ${info?.backendSetting ?? setting}`);
  if (info?.available) lines.push(`Available: ${info.available.onnxruntime}; ${info.available.tfjs}`);
  return lines.join('\n');
}

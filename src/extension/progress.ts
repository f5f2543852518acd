/** Worker progress (stage, done, total) → overall increments for window.withProgress. Pure: no VS Code import. */

export type StageWeights = [string, number][];

const STAGES: StageWeights = [
  ['reading', 0.1],
  ['featurizing', 0.2],
  ['training', 0.2],
  ['hessian', 0.05],
  ['scoring', 0.2],
  ['attributing', 0.2],
  ['testing', 0.05],
];

/** Overall fraction 0–1 reached at `done/total` of `stage`; undefined for an unknown stage. */
export function overallFraction(
  stage: string,
  done: number,
  total: number,
  stages: StageWeights = STAGES,
): number | undefined {
  let start = 0;
  for (const [name, w] of stages) {
    if (name === stage) {
      const f = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
      return Math.min(1, start + w * f);
    }
    start += w;
  }
  return undefined;
}

/** Turns a stream of stage reports into monotonic percentage increments and a stage message. */
export class ProgressTracker {
  private reached = 0;

  /** `stages`: the job's stages in order with their share of the whole (default: a scoring job's). */
  constructor(private readonly stages: StageWeights = STAGES) {}

  next(p: { stage: string; done: number; total: number; message?: string }): {
    increment: number;
    message: string;
    percent: number;
  } {
    const f = overallFraction(p.stage, p.done, p.total, this.stages);
    let increment = 0;
    if (f !== undefined && f > this.reached) {
      increment = (f - this.reached) * 100;
      this.reached = f;
    }
    const count = p.total > 1 ? ` ${p.done}/${p.total}` : '';
    const message = `${p.stage}${count}${p.message ? ` (${p.message})` : ''}`;
    return { increment, message, percent: Math.round(this.reached * 100) };
  }
}

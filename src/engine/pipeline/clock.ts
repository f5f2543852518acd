/** Seconds per stage and peak memory of a job, for the summary. */
export class StageClock {
  readonly seconds: Record<string, number> = {};
  private last = performance.now();
  /** Adds the time since the previous lap to `stage`. */
  lap(stage: string): void {
    const now = performance.now();
    this.seconds[stage] = (this.seconds[stage] ?? 0) + (now - this.last) / 1000;
    this.last = now;
  }
}

export class PeakMemory {
  peakMB = 0;
  sample(): void {
    this.peakMB = Math.max(this.peakMB, process.memoryUsage().rss / 2 ** 20);
  }
}

/**
 * Lets the event loop serve pending I/O (a worker's cancellation message, progress writes) between batches and
 * stages, whose work is otherwise synchronous; then honours an abort that arrived meanwhile.
 */
export async function yieldToEventLoop(signal: AbortSignal | undefined): Promise<void> {
  signal?.throwIfAborted();
  await new Promise<void>((resolve) => setImmediate(resolve));
  signal?.throwIfAborted();
}

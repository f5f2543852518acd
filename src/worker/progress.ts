/**
 * Throttles progress to about one message per `intervalMs`: a new stage and a finished stage always go through;
 * otherwise the latest update waits for the next slot (flush() sends a pending one now). Never blocks.
 */
export function progressThrottle<P extends { stage: string; done: number; total: number }>(
  send: (p: P) => void,
  intervalMs: number,
): ((p: P) => void) & { flush(): void } {
  let last = 0;
  let stage: string | undefined;
  let pending: P | undefined;
  const fn = (p: P): void => {
    const now = Date.now();
    if (p.stage !== stage || now - last >= intervalMs || (p.total > 0 && p.done >= p.total)) {
      stage = p.stage;
      last = now;
      pending = undefined;
      send(p);
    } else {
      pending = p;
    }
  };
  fn.flush = (): void => {
    if (pending) send(pending);
    pending = undefined;
  };
  return fn;
}

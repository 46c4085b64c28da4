// The eviction sweep: every node looks for members whose session ran out on a timer, until the engine closes.

export const DEFAULT_SWEEP_INTERVAL_MS = 1_000;

/** Runs `sweep` every `intervalMs`, one run at a time, until `closing` aborts; failures wait for the next tick. */
export function startSweep(sweep: () => Promise<unknown>, intervalMs: number, closing: AbortSignal): void {
  let running = false;
  const timer = setInterval(() => {
    if (running || closing.aborted) return;
    running = true;
    sweep()
      // The store may be closing or briefly unreachable; the next tick tries again.
      .catch(() => undefined)
      .finally(() => (running = false));
  }, intervalMs);
  timer.unref();
  closing.addEventListener("abort", () => clearInterval(timer), { once: true });
}

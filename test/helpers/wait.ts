// Waiting in tests for something that happens asynchronously, without asserting how fast it happens.
import { setTimeout as sleep } from "node:timers/promises";

/** Polls until `check` answers something truthy and answers it; fails naming `what` after a generous limit. */
export async function until<T>(check: () => T | Promise<T>, what: string, limitMs = 15_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await sleep(10);
  }
}

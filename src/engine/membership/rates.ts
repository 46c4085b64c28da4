// Consumption rates for lag reports: entries a group read per second, from samples this node took.

interface Sample {
  at: number;
  read: number;
}

/** Samples older than this are dropped, except the newest of them, which anchors the next rate. */
const WINDOW_MS = 60_000;
const MAX_GROUPS = 10_000;

/**
 * Each lag report samples the group's read counter. The rate is the counter's growth since the oldest sample of
 * the last minute; the first report of a group on this node averages over the group's whole life instead.
 */
export class ConsumptionRates {
  private readonly samples = new Map<string, Sample[]>();

  /** Records `read` (the group's entries-read counter) at `now` and answers entries per second, one decimal. */
  sample(key: string, now: number, read: number, createdAt: number): number {
    let list = this.samples.get(key);
    if (!list) {
      if (this.samples.size >= MAX_GROUPS) this.samples.delete(this.samples.keys().next().value!);
      list = [];
      this.samples.set(key, list);
    }
    while (list.length > 1 && list[1]!.at <= now - WINDOW_MS) list.shift();
    const base: Sample = list[0] ?? { at: createdAt, read: 0 };
    list.push({ at: now, read });
    const seconds = (now - base.at) / 1000;
    if (seconds <= 0) return 0;
    return Math.round((Math.max(0, read - base.read) / seconds) * 10) / 10;
  }
}

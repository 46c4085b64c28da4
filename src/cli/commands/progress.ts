// A live progress line on stderr: entries done, live rate, elapsed and, when the total is known, a bar; redrawn in place.
import { ConfigError } from "../errors.js";

/** The flags that turn the progress line on or off, shared by the commands that show one. */
export const PROGRESS_OPTIONS = {
  progress: { type: "boolean" },
  "no-progress": { type: "boolean" },
} as const;

export const PROGRESS_HELP = `  --progress             show the progress line on stderr even when it is not a terminal
  --no-progress          never show the progress line (default: shown when stderr is a terminal)
`;

/** At most this many redraws a second: the line is for eyes, and must not slow the work it reports. */
export const REDRAW_MS = 200;
/** The live rate covers about this much of the recent past. */
const RATE_WINDOW_MS = 1000;
const BAR_WIDTH = 20;

/** What the line reports, read only when it is drawn (never per entry). */
export interface ProgressSource {
  /** Entries done so far. */
  done(): number;
  /** How far along, 0 to 1, when the total is known. */
  fraction?: (() => number) | undefined;
  /** The number of entries expected, when known: shown as `done/total`, and the bar is done/total unless `fraction` says. */
  total?: number | undefined;
}

/** Where the line goes: stderr, or any writable when forced. */
export interface ProgressOutput {
  write(text: string): unknown;
  columns?: number;
}

/**
 * Whether to draw: `--progress` forces it, `--no-progress` (or `silenced`, e.g. by --quiet) turns it off, and
 * otherwise it shows when stderr is a terminal.
 */
export function progressWanted(
  flags: { progress?: boolean | undefined; "no-progress"?: boolean | undefined },
  terminal: boolean,
  silenced = false,
): boolean {
  if (flags.progress && flags["no-progress"]) throw new ConfigError("give --progress or --no-progress, not both");
  if (flags.progress && silenced) throw new ConfigError("give --progress or --quiet, not both");
  if (flags.progress) return true;
  return !flags["no-progress"] && !silenced && terminal;
}

/** "1:05" or "1:02:05". */
export function elapsedText(ms: number): string {
  const s = Math.floor(ms / 1000);
  const mm = String(Math.floor(s / 60) % 60);
  const ss = String(s % 60).padStart(2, "0");
  return s >= 3600 ? `${Math.floor(s / 3600)}:${mm.padStart(2, "0")}:${ss}` : `${mm}:${ss}`;
}

/**
 * Draws `[#####---------------]  25%  1200/4800 entries  9000/s  0:03` on `out` every REDRAW_MS until
 * `stop()`, which draws the final state and clears the line so a summary can take its place.
 *
 * @example
 * ```ts
 * let sent = 0;
 * const line = new ProgressLine(process.stderr, { done: () => sent, total: payloads.length });
 * for (const p of payloads) { await send(p); sent++; }
 * line.stop();
 * ```
 */
export class ProgressLine {
  private readonly started = performance.now();
  /** (time, done) at recent draws, oldest first: the live rate is measured against the oldest. */
  private readonly samples: { at: number; done: number }[];
  private readonly timer: ReturnType<typeof setInterval>;
  private drawnWidth = 0;
  private stopped = false;

  constructor(
    private readonly out: ProgressOutput,
    private readonly source: ProgressSource,
    private readonly unit = "entries",
  ) {
    this.samples = [{ at: this.started, done: 0 }];
    this.timer = setInterval(() => this.draw(), REDRAW_MS);
    // The line never keeps the process alive by itself.
    this.timer.unref();
    this.draw();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    this.draw();
    this.out.write(`\r${" ".repeat(this.drawnWidth)}\r`);
  }

  /** The line for now; records a rate sample. */
  private compose(now = performance.now()): string {
    const done = this.source.done();
    const { total } = this.source;
    this.samples.push({ at: now, done });
    while (this.samples.length > 2 && this.samples[1]!.at <= now - RATE_WINDOW_MS) this.samples.shift();
    const base = this.samples[0]!;
    const rate = now > base.at ? Math.round(((done - base.done) * 1000) / (now - base.at)) : 0;
    const count = total === undefined ? `${done} ${this.unit}` : `${done}/${total} ${this.unit}`;
    const tail = `${count}  ${rate}/s  ${elapsedText(now - this.started)}`;
    const fraction = this.source.fraction?.() ?? (total === undefined || total === 0 ? undefined : done / total);
    if (fraction === undefined || !Number.isFinite(fraction)) return tail;
    const f = Math.min(1, Math.max(0, fraction));
    const filled = Math.floor(f * BAR_WIDTH);
    const bar = `[${"#".repeat(filled)}${"-".repeat(BAR_WIDTH - filled)}]  ${String(Math.floor(f * 100)).padStart(3)}%`;
    const line = `${bar}  ${tail}`;
    // A narrow terminal gets the numbers without the bar, so the line never wraps (a wrapped line cannot be redrawn).
    return this.out.columns && line.length >= this.out.columns ? `${String(Math.floor(f * 100))}%  ${tail}` : line;
  }

  private draw(): void {
    const line = this.compose();
    this.out.write(`\r${line}${" ".repeat(Math.max(0, this.drawnWidth - line.length))}`);
    this.drawnWidth = Math.max(this.drawnWidth, line.length);
  }
}

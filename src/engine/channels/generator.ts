// Emits a channel's sample events on an interval; can be started, stopped, paused and resumed.
import type { EventInput, GeneratorState } from "./types.js";

export class ChannelGenerator {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private paused = false;

  constructor(
    /** Makes the next sample event. */
    private readonly next: () => EventInput,
    private readonly emit: (event: EventInput) => void,
    readonly intervalMs: number,
  ) {}

  get state(): GeneratorState {
    return { running: this.running, paused: this.paused };
  }

  /** Starts emitting; a generator that was running or paused starts over. */
  start(): void {
    this.clearTimer();
    this.running = true;
    this.paused = false;
    this.schedule();
  }

  stop(): void {
    this.clearTimer();
    this.running = false;
    this.paused = false;
  }

  /** Answers false when there is nothing running to pause. */
  pause(): boolean {
    if (!this.running) return false;
    this.clearTimer();
    this.paused = true;
    return true;
  }

  /** Answers false when there is nothing running to resume. */
  resume(): boolean {
    if (!this.running) return false;
    if (this.paused) {
      this.paused = false;
      this.schedule();
    }
    return true;
  }

  private schedule(): void {
    this.timer = setInterval(() => this.emit(this.next()), this.intervalMs);
    // Sample noise alone must not keep a process alive.
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

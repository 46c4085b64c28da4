// Windowed stream definitions: the options a user gives, their defaults and validation, and sameness on redefine.
import { BadRequestError, ConflictError } from "../../core/errors.js";
import { checkName } from "../../core/names.js";
import { WINDOW_TYPES, type WindowShape, type WindowType } from "../../core/windows.js";
import type { NewWindowStream, WindowStreamRecord } from "../../storage/queries/windows.js";

export interface WindowStreamOptions {
  name: string;
  /** Where the source streams live; default `default`. */
  namespace?: string | undefined;
  sources: readonly string[];
  /** One window per source partition (key = the partition number) instead of one global window (`__GLOBAL__`). */
  partitioned?: boolean | undefined;
  type?: WindowType | undefined;
  /** Tumbling and hopping windows: their length. */
  durationMs?: number | undefined;
  /** Hopping windows: the distance between window starts (at most the duration). */
  hopMs?: number | undefined;
  /** Session windows: the silence that closes a session. */
  gapMs?: number | undefined;
  graceMs?: number | undefined;
  leaseMs?: number | undefined;
  /** A dot path into the payload (`ts`, `meta.at`) holding epoch ms or an ISO date; default: the entry's timestamp. */
  eventTimeField?: string | null | undefined;
}

export const DEFAULT_WINDOW_OPTIONS = {
  namespace: "default",
  partitioned: false,
  type: "tumbling" as WindowType,
  graceMs: 0,
  leaseMs: 60_000,
} as const;

/** The most source streams one definition may read. */
export const MAX_SOURCES = 64;
/** About 100 years: beyond this a duration is a mistake. */
/** The longest window, hop, gap, grace or lease: a hundred years. */
export const MAX_MS = 100 * 365 * 24 * 3600 * 1000;

function millis(value: number | undefined, field: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < min || value > MAX_MS) {
    throw new BadRequestError(`${field} must be an integer between ${min} and ${MAX_MS} ms`, { field });
  }
  return value;
}

/** Validates and fills defaults; `field` maps an option to the name the caller used for it. */
export function resolveWindowStream(
  input: WindowStreamOptions,
  field: (option: keyof WindowStreamOptions) => string = (o) => o,
): NewWindowStream {
  const name = checkName(input.name, field("name"));
  const namespace = checkName(input.namespace ?? DEFAULT_WINDOW_OPTIONS.namespace, field("namespace"));
  if (!Array.isArray(input.sources) || input.sources.length === 0 || input.sources.length > MAX_SOURCES) {
    throw new BadRequestError(`give between 1 and ${MAX_SOURCES} source streams`, { field: field("sources") });
  }
  const sources = [...new Set(input.sources.map((s, i) => checkName(s, `${field("sources")}/${i}`)))];
  const type = input.type ?? DEFAULT_WINDOW_OPTIONS.type;
  if (!WINDOW_TYPES.includes(type)) {
    throw new BadRequestError(`window type must be one of ${WINDOW_TYPES.join(", ")}`, { field: field("type") });
  }
  let durationMs = millis(input.durationMs, field("durationMs"), 1);
  let hopMs = millis(input.hopMs, field("hopMs"), 1);
  let gapMs = millis(input.gapMs, field("gapMs"), 1);
  if (type === "session") {
    if (gapMs === undefined) throw new BadRequestError("a session window needs a gap", { field: field("gapMs") });
    durationMs = 0;
    hopMs = 0;
  } else {
    if (durationMs === undefined) throw new BadRequestError(`a ${type} window needs a duration`, { field: field("durationMs") });
    gapMs = 0;
    if (type === "tumbling") hopMs = durationMs;
    else if (hopMs === undefined) throw new BadRequestError("a hopping window needs a hop", { field: field("hopMs") });
    else if (hopMs > durationMs) throw new BadRequestError("the hop must not exceed the duration", { field: field("hopMs") });
  }
  const eventTimeField = input.eventTimeField ?? null;
  if (eventTimeField !== null && !/^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$/.test(eventTimeField)) {
    throw new BadRequestError("the event time field must be a dot path such as 'ts' or 'meta.at'", {
      field: field("eventTimeField"),
    });
  }
  return {
    name,
    namespace,
    sources,
    partitioned: input.partitioned ?? DEFAULT_WINDOW_OPTIONS.partitioned,
    type,
    durationMs,
    hopMs,
    gapMs,
    graceMs: millis(input.graceMs, field("graceMs"), 0) ?? DEFAULT_WINDOW_OPTIONS.graceMs,
    leaseMs: millis(input.leaseMs, field("leaseMs"), 1) ?? DEFAULT_WINDOW_OPTIONS.leaseMs,
    eventTimeField,
  };
}

/** Defining a stream again is fine when nothing differs; a change of shape would re-cut delivered windows. */
export function assertSameDefinition(
  existing: WindowStreamRecord,
  wanted: NewWindowStream,
  field: (option: keyof WindowStreamOptions) => string = (o) => o,
): void {
  const checks: [keyof WindowStreamOptions, unknown, unknown][] = [
    ["namespace", existing.namespace, wanted.namespace],
    ["sources", [...existing.sources].sort().join(","), [...wanted.sources].sort().join(",")],
    ["partitioned", existing.partitioned, wanted.partitioned],
    ["type", existing.type, wanted.type],
    ["durationMs", existing.durationMs, wanted.durationMs],
    ["hopMs", existing.hopMs, wanted.hopMs],
    ["gapMs", existing.gapMs, wanted.gapMs],
    ["graceMs", existing.graceMs, wanted.graceMs],
    ["leaseMs", existing.leaseMs, wanted.leaseMs],
    ["eventTimeField", existing.eventTimeField, wanted.eventTimeField],
  ];
  for (const [option, was, now] of checks) {
    if (was !== now) {
      throw new ConflictError(`stream '${existing.name}' is already defined with a different ${field(option)}`, {
        field: field(option),
      });
    }
  }
}

export function shapeOf(d: NewWindowStream): WindowShape {
  return { type: d.type, durationMs: d.durationMs, hopMs: d.hopMs, gapMs: d.gapMs, graceMs: d.graceMs };
}

/** The late-entries stream of a windowed stream, in its namespace. */
export function lateStreamName(name: string): string {
  return `${name}:late`;
}

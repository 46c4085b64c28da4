// A consumer group's membership settings: defaults, limits and the one place they are validated.
import { parseStrategy, type AssignmentStrategy } from "../../core/assignment.js";
import { BadRequestError } from "../../core/errors.js";

export interface GroupOptions {
  strategy: AssignmentStrategy;
  /** Most active members at once; one more join is refused with a conflict. */
  maxMembers: number;
  /** A member not heard from (heartbeat or read) for this long is evicted, in ms. */
  sessionTimeoutMs: number;
  /** How often members are expected to heartbeat, in ms; a member's blocking read re-checks in this rhythm. */
  heartbeatIntervalMs: number;
  /** Stored and reported (seed 003); Runnel evicts by session timeout only. */
  maxPollIntervalMs: number;
  /** Stored and reported (seed 003); a Runnel rebalance is one transaction, so nothing waits for it. */
  rebalanceTimeoutMs: number;
  description: string | null;
}

/** What a request may set; `strategy` is the name as the client spelled it. */
export type GroupOptionsInput = Partial<Omit<GroupOptions, "strategy">> & { strategy?: string | undefined };

/** The request field each option came from, so a 400 names the field the client sent. */
export type OptionFields = Record<keyof GroupOptions, string>;

export const DEFAULT_GROUP_OPTIONS: Readonly<GroupOptions> = Object.freeze({
  strategy: "ROUND_ROBIN",
  maxMembers: 100,
  sessionTimeoutMs: 30_000,
  heartbeatIntervalMs: 3_000,
  maxPollIntervalMs: 300_000,
  rebalanceTimeoutMs: 60_000,
  description: null,
});

export const GROUP_OPTION_LIMITS = {
  maxMembers: { min: 1, max: 10_000 },
  sessionTimeoutMs: { min: 100, max: 3_600_000 },
  heartbeatIntervalMs: { min: 10, max: 3_600_000 },
  maxPollIntervalMs: { min: 100, max: 86_400_000 },
  rebalanceTimeoutMs: { min: 1, max: 86_400_000 },
} as const;

export const SEED_000_FIELDS: OptionFields = {
  strategy: "loadBalancingStrategy",
  maxMembers: "maxMembers",
  sessionTimeoutMs: "sessionTimeout",
  heartbeatIntervalMs: "heartbeatInterval",
  maxPollIntervalMs: "maxPollInterval",
  rebalanceTimeoutMs: "rebalanceTimeout",
  description: "description",
};

export const SEED_003_FIELDS: OptionFields = {
  strategy: "partition_assignment_strategy",
  maxMembers: "max_members",
  sessionTimeoutMs: "session_timeout_ms",
  heartbeatIntervalMs: "heartbeat_interval_ms",
  maxPollIntervalMs: "max_poll_interval_ms",
  rebalanceTimeoutMs: "rebalance_timeout_ms",
  description: "group_description",
};

/**
 * Fills defaults and checks limits. Without an explicit heartbeat interval, a short session timeout gets one a
 * third as long, so the default never exceeds the timeout.
 */
export function resolveGroupOptions(input: GroupOptionsInput, fields: OptionFields = SEED_000_FIELDS): GroupOptions {
  const strategy = input.strategy === undefined ? DEFAULT_GROUP_OPTIONS.strategy : parseStrategy(input.strategy, fields.strategy);
  const sessionTimeoutMs = input.sessionTimeoutMs ?? DEFAULT_GROUP_OPTIONS.sessionTimeoutMs;
  const options: GroupOptions = {
    strategy,
    maxMembers: input.maxMembers ?? DEFAULT_GROUP_OPTIONS.maxMembers,
    sessionTimeoutMs,
    heartbeatIntervalMs:
      input.heartbeatIntervalMs ??
      Math.max(GROUP_OPTION_LIMITS.heartbeatIntervalMs.min, Math.min(DEFAULT_GROUP_OPTIONS.heartbeatIntervalMs, Math.floor(sessionTimeoutMs / 3))),
    maxPollIntervalMs: input.maxPollIntervalMs ?? DEFAULT_GROUP_OPTIONS.maxPollIntervalMs,
    rebalanceTimeoutMs: input.rebalanceTimeoutMs ?? DEFAULT_GROUP_OPTIONS.rebalanceTimeoutMs,
    description: input.description ?? null,
  };
  for (const key of Object.keys(GROUP_OPTION_LIMITS) as (keyof typeof GROUP_OPTION_LIMITS)[]) {
    const { min, max } = GROUP_OPTION_LIMITS[key];
    const v = options[key];
    if (!Number.isInteger(v) || v < min || v > max) {
      throw new BadRequestError(`${fields[key]} must be an integer from ${min} to ${max}`, { field: fields[key] });
    }
  }
  if (options.heartbeatIntervalMs >= options.sessionTimeoutMs) {
    throw new BadRequestError(`${fields.heartbeatIntervalMs} must be shorter than ${fields.sessionTimeoutMs}`, {
      field: fields.heartbeatIntervalMs,
    });
  }
  return options;
}

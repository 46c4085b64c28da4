// Consumer group membership (seed 000 §3, seed 003): the service, its options and the views it answers with.
export { MembershipService } from "./service.js";
export { DEFAULT_SWEEP_INTERVAL_MS } from "./sweep.js";
export type { GroupView, LagReport, MemberView, MembershipOptions } from "./service.js";
export {
  DEFAULT_GROUP_OPTIONS,
  GROUP_OPTION_LIMITS,
  SEED_000_FIELDS,
  SEED_003_FIELDS,
  resolveGroupOptions,
} from "./options.js";
export type { GroupOptions, GroupOptionsInput, OptionFields } from "./options.js";

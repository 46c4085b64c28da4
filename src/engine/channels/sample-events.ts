// Sample events for the four default channels, made up fresh each time so a demo looks alive.
import type { EventInput } from "./types.js";

export const DEFAULT_CHANNELS = ["default", "system", "user-activity", "notifications"] as const;
export type DefaultChannel = (typeof DEFAULT_CHANNELS)[number];

/** A number in [0, 1), as Math.random gives; injectable so tests can pin the output. */
export type Random = () => number;

type Sample = (random: Random) => EventInput;

function pick<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

function between(random: Random, min: number, max: number, decimals = 0): number {
  const f = 10 ** decimals;
  return Math.round((min + random() * (max - min)) * f) / f;
}

const userId = (random: Random): string => `user_${between(random, 1000, 9999)}`;
const SERVICES = ["api-gateway", "auth-service", "billing", "search", "notification-worker"] as const;
const HOSTS = ["web-01", "web-02", "worker-01", "db-primary"] as const;

const general: Sample[] = [
  (r) => {
    const action = pick(r, ["login", "logout", "update_profile"] as const);
    const verb = { login: "logged in", logout: "logged out", update_profile: "updated their profile" }[action];
    const user = userId(r);
    return { type: "user_action", message: `User ${user} ${verb}`, data: { user_id: user, action } };
  },
  (r) => ({
    type: "notification",
    message: pick(r, ["New version 2.4.1 is available", "Weekly report is ready", "Your export has finished"]),
    data: { level: "info", read: false },
  }),
  (r) => {
    const order = `ORD-${between(r, 10000, 99999)}`;
    const status = pick(r, ["paid", "packed", "shipped", "delivered"]);
    return {
      type: "data_update",
      message: `Order ${order} is now ${status}`,
      data: { entity: "order", entity_id: order, field: "status", value: status },
    };
  },
];

const system: Sample[] = [
  (r) => {
    const cpu = between(r, 80, 99, 1);
    return {
      type: "system_alert",
      message: `High CPU usage detected: ${cpu}%`,
      data: { host: pick(r, HOSTS), cpu_percent: cpu, threshold: 80, severity: cpu >= 95 ? "critical" : "warning" },
    };
  },
  (r) => {
    const memory = between(r, 85, 99, 1);
    return {
      type: "system_alert",
      message: `High memory usage detected: ${memory}%`,
      data: { host: pick(r, HOSTS), memory_percent: memory, threshold: 85, severity: "warning" },
    };
  },
  (r) => {
    const free = between(r, 1, 9, 1);
    return {
      type: "system_alert",
      message: `Disk space low on /var: ${free} GB free`,
      data: { host: pick(r, HOSTS), mount: "/var", free_gb: free, threshold_gb: 10, severity: free < 3 ? "critical" : "warning" },
    };
  },
  (r) => {
    const service = pick(r, SERVICES);
    const status = pick(r, ["healthy", "healthy", "healthy", "degraded"]);
    return {
      type: "notification",
      message: `Service ${service} is ${status}`,
      data: { service, status, latency_ms: between(r, 5, status === "healthy" ? 120 : 900) },
    };
  },
  (r) => ({
    type: "metric_update",
    message: "System metrics updated",
    data: {
      host: pick(r, HOSTS),
      cpu_percent: between(r, 5, 95, 1),
      memory_percent: between(r, 20, 90, 1),
      load_average: between(r, 0.1, 8, 2),
      requests_per_second: between(r, 50, 2500),
    },
  }),
];

const userActivity: Sample[] = [
  (r) => {
    const user = userId(r);
    const event = pick(r, ["login", "logout", "login_failed", "mfa_verified", "password_reset"] as const);
    const text = {
      login: "signed in",
      logout: "signed out",
      login_failed: "failed to sign in",
      mfa_verified: "completed two-factor verification",
      password_reset: "reset their password",
    }[event];
    return {
      type: "user_action",
      message: `User ${user} ${text}`,
      data: { user_id: user, action: event, ip: `10.0.${between(r, 0, 255)}.${between(r, 1, 254)}` },
    };
  },
  (r) => {
    const user = userId(r);
    const field = pick(r, ["display_name", "email", "avatar", "time_zone"]);
    return { type: "user_action", message: `User ${user} changed their ${field.replace("_", " ")}`, data: { user_id: user, action: "update_profile", field } };
  },
  (r) => {
    const user = userId(r);
    const role = pick(r, ["viewer", "editor", "admin"]);
    const granted = r() < 0.7;
    return {
      type: "data_update",
      message: `Role ${role} ${granted ? "granted to" : "revoked from"} ${user}`,
      data: { user_id: user, role, change: granted ? "granted" : "revoked", by: userId(r) },
    };
  },
  (r) => {
    const user = userId(r);
    const kind = pick(r, ["post", "comment", "photo"]);
    const verb = pick(r, ["created", "edited", "deleted"]);
    return {
      type: "data_update",
      message: `User ${user} ${verb} a ${kind}`,
      data: { user_id: user, content_type: kind, content_id: `${kind}_${between(r, 1, 99999)}`, change: verb },
    };
  },
];

const notifications: Sample[] = [
  (r) => ({
    type: "notification",
    message: pick(r, ["You have 3 new messages", "Someone mentioned you in a comment", "Your order has shipped"]),
    data: { channel: "push", recipient: userId(r), platform: pick(r, ["ios", "android", "web"]) },
  }),
  (r) => ({
    type: "notification",
    message: pick(r, ["Payment failed for invoice INV-2291", "Unusual sign-in from a new device", "Storage quota at 90%"]),
    data: { channel: "alert", priority: pick(r, ["high", "medium"]), recipient: userId(r) },
  }),
  (r) => {
    const minutes = pick(r, [5, 15, 30, 60]);
    return {
      type: "notification",
      message: `Reminder: ${pick(r, ["team stand-up", "quarterly review", "dentist appointment"])} in ${minutes} minutes`,
      data: { channel: "reminder", reminder_id: `rem_${between(r, 100, 9999)}`, minutes_until: minutes },
    };
  },
  (r) => ({
    type: "notification",
    message: pick(r, ["Scheduled maintenance tonight from 02:00 to 02:30 UTC", "New dashboard features are live", "Our terms of service have been updated"]),
    data: { channel: "announcement", audience: "all", announcement_id: `ann_${between(r, 1, 500)}` },
  }),
];

const SAMPLES: Record<DefaultChannel, Sample[]> = {
  default: general,
  system,
  "user-activity": userActivity,
  notifications,
};

export function isDefaultChannel(id: string): id is DefaultChannel {
  return (DEFAULT_CHANNELS as readonly string[]).includes(id);
}

/** The sample maker for a channel; channels other than the defaults get general events. */
export function sampleSource(channelId: string, random: Random = Math.random): () => EventInput {
  const samples = isDefaultChannel(channelId) ? SAMPLES[channelId] : general;
  return () => pick(random, samples)(random);
}

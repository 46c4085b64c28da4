// The package's public surface for embedding Runnel in a Node program.
export { startServer, type ServerOptions, type RunningServer } from "./api/server.js";
export { Engine, type EngineOptions } from "./engine/index.js";
export { createStore, type Store, type StoreOptions } from "./storage/index.js";
export * from "./core/errors.js";
export * from "./core/ids.js";
export * from "./core/types.js";
export { ManualClock, systemClock, type Clock } from "./core/clock.js";

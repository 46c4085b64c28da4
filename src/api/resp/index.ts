// The Redis protocol (RESP2) endpoint: Redis Streams commands over Runnel's streams and consumer groups.
export { startRespServer, DEFAULT_RESP_GRACE_MS, RESP_NAMESPACE, type RespServer, type RespServerOptions } from "./server.js";
export { payloadOf, fieldsOf } from "./entries.js";
export { REDIS_VERSION } from "./commands/server.js";

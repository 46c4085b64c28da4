// The client commands of `runnel`, each a function of its arguments: publish, tail, info, pending, trim, dlq.
export { publish } from "./publish.js";
export { tail } from "./tail.js";
export { info } from "./info.js";
export { pending } from "./pending.js";
export { trim } from "./trim.js";
export { dlq } from "./dlq.js";

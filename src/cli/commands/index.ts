// The client commands of `runnel`, each a function of its arguments: publish, tail, consume, info, pending, trim, dlq, bench.
export { publish } from "./publish.js";
export { tail } from "./tail.js";
export { consume } from "./consume.js";
export { info } from "./info.js";
export { pending } from "./pending.js";
export { trim } from "./trim.js";
export { dlq } from "./dlq.js";
export { bench } from "./bench.js";

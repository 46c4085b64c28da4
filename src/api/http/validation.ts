// Two Ajv instances: query strings and path params are coerced from text, JSON bodies are typed strictly.
import { Ajv, type Options } from "ajv";
import type { FastifyInstance, FastifyRequest } from "fastify";

const common: Options = { strict: false, allErrors: false, useDefaults: true };

export function registerValidation(app: FastifyInstance): void {
  const lenient = new Ajv({ ...common, coerceTypes: "array" });
  const strict = new Ajv({ ...common, coerceTypes: false });
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === "body" ? strict : lenient).compile(schema));
}

/** For routes whose body is all optional: no body at all means `{}`. */
export async function emptyBodyIsObject(req: FastifyRequest): Promise<void> {
  if (req.body === undefined || req.body === null) req.body = {};
}

/** A body that is either shape `whenPresent` (it has `key`) or shape `otherwise`, with errors from the right one. */
export function shapeBy(key: string, whenPresent: object, otherwise: object): object {
  return { type: "object", if: { type: "object", required: [key] }, then: whenPresent, else: otherwise };
}

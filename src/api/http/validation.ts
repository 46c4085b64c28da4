// Two Ajv instances: query strings and path params are coerced from text, JSON bodies are typed strictly.
import { Ajv, type Options } from "ajv";
import type { FastifyInstance, FastifyRequest, FastifySchemaValidationError } from "fastify";

const common: Options = { strict: false, allErrors: false, useDefaults: true };

export function registerValidation(app: FastifyInstance): void {
  const lenient = new Ajv({ ...common, coerceTypes: "array" });
  const strict = new Ajv({ ...common, coerceTypes: false });
  app.setValidatorCompiler(({ schema, httpPart }) =>
    httpPart === "body" ? strict.compile(schema) : decimalIntegers(schema as Schema, lenient.compile(schema) as Validate),
  );
}

type Schema = { properties?: Record<string, { type?: unknown }> };
type Validate = ((data: unknown) => boolean) & { errors?: FastifySchemaValidationError[] | null | undefined };

/**
 * Coercion reads a query or path integer with JavaScript's `Number`, which takes `0x10`, `1e2` and ` 5`; a user
 * who typed those made a mistake. Integers in the text must be plain decimal digits.
 */
function decimalIntegers(schema: Schema, validate: Validate): Validate {
  const integers = Object.entries(schema.properties ?? {}).flatMap(([key, s]) => (s.type === "integer" ? [key] : []));
  if (integers.length === 0) return validate;
  const check: Validate = (data) => {
    for (const key of integers) {
      const value = (data as Record<string, unknown> | null)?.[key];
      const texts = Array.isArray(value) ? value : [value];
      if (texts.some((v) => typeof v === "string" && !/^-?\d+$/.test(v))) {
        const message = "must be an integer in decimal digits";
        check.errors = [{ instancePath: `/${key}`, schemaPath: `#/properties/${key}/type`, keyword: "type", params: {}, message }];
        return false;
      }
    }
    const ok = validate(data);
    check.errors = validate.errors;
    return ok;
  };
  return check;
}

/** For routes whose body is all optional: no body at all means `{}`. */
export async function emptyBodyIsObject(req: FastifyRequest): Promise<void> {
  if (req.body === undefined || req.body === null) req.body = {};
}

/** A body that is either shape `whenPresent` (it has `key`) or shape `otherwise`, with errors from the right one. */
export function shapeBy(key: string, whenPresent: object, otherwise: object): object {
  return { type: "object", if: { type: "object", required: [key] }, then: whenPresent, else: otherwise };
}

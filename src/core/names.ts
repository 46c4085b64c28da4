// Which names streams, groups, consumers and namespaces may have.
import { BadRequestError } from "./errors.js";

// Braces let Redis-style hash tags through (`app:{user1}:events`); in a URL they are written %7B and %7D.
export const NAME_PATTERN = "^[A-Za-z0-9_{][A-Za-z0-9_.:@{}-]{0,199}$";
const NAME = new RegExp(NAME_PATTERN);

export function checkName(value: unknown, field: string): string {
  if (typeof value !== "string" || !NAME.test(value)) {
    throw new BadRequestError(
      `${field} must be 1-200 characters of letters, digits and _ . : @ - { } (not starting with . : @ - })`,
      { field },
    );
  }
  return value;
}

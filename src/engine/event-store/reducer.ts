// The default reducer that folds an aggregate's events into its state: a deep merge where null deletes a key.

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** What the reducer sees of one event. */
export interface ReducedEvent {
  eventType: string;
  data: JsonValue;
}

/** Folds one event into a state and answers the new state; it must not change `state`. */
export type Reducer = (state: JsonValue, event: ReducedEvent) => JsonValue;

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Sets a key as an own property, so a key named `__proto__` is stored as data instead of changing the prototype. */
function put(target: JsonObject, key: string, value: JsonValue): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Merges `patch` into `state`: keys of an object patch are set, objects merge recursively, arrays and scalars
 * replace, and a key set to null is deleted. A patch that is not an object (an array, a scalar) replaces the state
 * whole; a null patch resets it to `{}`.
 */
export function deepMerge(state: JsonValue, patch: JsonValue): JsonValue {
  if (patch === null) return {};
  if (!isJsonObject(patch)) return patch;
  const result: JsonObject = {};
  if (isJsonObject(state)) for (const [k, v] of Object.entries(state)) put(result, k, v);
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else if (isJsonObject(value)) put(result, key, deepMerge(Object.hasOwn(result, key) ? result[key]! : {}, value) as JsonObject);
    else put(result, key, value);
  }
  return result;
}

/** The reducer every event store uses: deep-merges each event's data into the state. */
export const defaultReducer: Reducer = (state, event) => deepMerge(state, event.data);

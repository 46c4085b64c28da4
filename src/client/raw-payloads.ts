// Payloads exactly as the server sent them: the text of each entry's `payload` in an `{entries: [...]}` answer,
// found by walking the answer once, so a number like 12345678901234567890 is not rounded by JSON.parse.
import { CLOSE_BRACKET, members, OPEN_BRACE, OPEN_BRACKET, skipSpace, skipValue, walkMembers } from "../core/json-text.js";
import { RawJson } from "./entry.js";

/** A RawJson for text known to be valid JSON (part of an answer JSON.parse accepted), without parsing it again. */
function trusted(text: string): RawJson {
  return Object.assign(Object.create(RawJson.prototype) as RawJson, { text });
}

/**
 * Replaces the `payload` of each object in `parsed.entries` (parsed from `text`) with a RawJson of its text.
 * Elements without a payload (an entry deleted while pending) are left as they are.
 */
export function useRawPayloads(text: string, parsed: { entries?: unknown }): void {
  const entries = parsed.entries;
  if (!Array.isArray(entries)) return;
  walkMembers(text, skipSpace(text, 0), (key, start) => {
    if (key !== "entries" || text.charCodeAt(start) !== OPEN_BRACKET) return skipValue(text, start);
    let i = skipSpace(text, start + 1);
    for (let n = 0; n < entries.length && text.charCodeAt(i) !== CLOSE_BRACKET; n++) {
      const entry = entries[n] as Record<string, unknown>;
      const end =
        text.charCodeAt(i) === OPEN_BRACE
          ? members(text, i, (k, s, e) => {
              if (k === "payload") entry.payload = trusted(text.slice(s, e));
            })
          : skipValue(text, i);
      i = skipSpace(text, end);
      if (text.charCodeAt(i) === CLOSE_BRACKET) return i + 1;
      i = skipSpace(text, i + 1); // the comma
    }
    return text.charCodeAt(i) === CLOSE_BRACKET ? i + 1 : skipValue(text, start);
  });
}

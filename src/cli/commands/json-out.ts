// JSON the CLI prints: payloads read as RawJson keep the text the server stored (no rounding of big numbers),
// laid out on one line or indented as JSON.stringify(value, null, 2) would.
import { RawJson } from "../../client/index.js";
import { CLOSE_BRACE, CLOSE_BRACKET, COMMA, OPEN_BRACE, OPEN_BRACKET, QUOTE, skipSpace, skipString } from "../../core/json-text.js";

/**
 * `value` (parsed from the server's JSON, so plain data) as compact JSON text; a RawJson goes in as its own
 * text (spaces between tokens dropped), so a payload's numbers print as they were stored.
 */
export function jsonText(value: unknown): string {
  if (value instanceof RawJson) return compactJson(value.text);
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? "null" : jsonText(v))).join(",")}]`;
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  const members: string[] = [];
  for (const [key, v] of Object.entries(value)) if (v !== undefined) members.push(`${JSON.stringify(key)}:${jsonText(v)}`);
  return `{${members.join(",")}}`;
}

const COLON = 58; // :

/** Valid JSON text without the spaces and line breaks between its tokens, so it fits on one line. */
export function compactJson(text: string): string {
  let out = "";
  let from = 0;
  for (let i = 0; i < text.length; ) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = skipString(text, i);
    } else if (c === 32 || c === 10 || c === 13 || c === 9) {
      out += text.slice(from, i);
      i = skipSpace(text, i);
      from = i;
    } else {
      i++;
    }
  }
  return out + text.slice(from);
}

/**
 * Valid JSON text laid out as JSON.stringify(value, null, 2) would, but with strings, numbers and literals
 * copied as written rather than parsed and printed again.
 */
export function indentJson(text: string): string {
  let out = "";
  let depth = 0;
  const newline = () => `\n${"  ".repeat(depth)}`;
  for (let i = skipSpace(text, 0); i < text.length; i = skipSpace(text, i)) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = skipString(text, i);
      out += text.slice(i, end);
      i = end;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      const next = skipSpace(text, i + 1);
      const close = text.charCodeAt(next);
      if (close === CLOSE_BRACE || close === CLOSE_BRACKET) {
        out += c === OPEN_BRACE ? "{}" : "[]";
        i = next + 1;
      } else {
        depth++;
        out += text[i] + newline();
        i = next;
      }
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
      out += newline() + text[i];
      i++;
    } else if (c === COMMA) {
      out += `,${newline()}`;
      i++;
    } else if (c === COLON) {
      out += ": ";
      i++;
    } else {
      // A number, true, false or null: up to the next delimiter or space.
      let end = i + 1;
      while (end < text.length && !/[\s,:\]}]/.test(text[end]!)) end++;
      out += text.slice(i, end);
      i = end;
    }
  }
  return out;
}

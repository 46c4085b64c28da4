// Walking JSON text that is already known to be valid (JSON.parse accepted it, or Runnel stored it after
// validation): where values start and end, and an object's members, without building the parsed value.

export const QUOTE = 34; // "
const BACKSLASH = 92;
export const OPEN_BRACE = 123;
export const CLOSE_BRACE = 125;
export const OPEN_BRACKET = 91;
export const CLOSE_BRACKET = 93;
export const COMMA = 44;

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

export function skipSpace(text: string, i: number): number {
  while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  return i;
}

/** `i` is at an opening quote; answers the index just after the closing one. */
export function skipString(text: string, i: number): number {
  let end = text.indexOf('"', i + 1);
  for (;;) {
    // A quote preceded by an odd number of backslashes is escaped.
    let slashes = 0;
    while (text.charCodeAt(end - 1 - slashes) === BACKSLASH) slashes++;
    if (slashes % 2 === 0) return end + 1;
    end = text.indexOf('"', end + 1);
  }
}

/** `i` is at the first character of a value; answers the index just after it. */
export function skipValue(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c === QUOTE) return skipString(text, i);
  if (c !== OPEN_BRACE && c !== OPEN_BRACKET) {
    // A number, true, false or null: it ends at the next delimiter.
    while (i < text.length) {
      const d = text.charCodeAt(i);
      if (d === COMMA || d === CLOSE_BRACE || d === CLOSE_BRACKET || isSpace(d)) break;
      i++;
    }
    return i;
  }
  let depth = 0;
  while (i < text.length) {
    const d = text.charCodeAt(i);
    if (d === QUOTE) {
      i = skipString(text, i);
      continue;
    }
    if (d === OPEN_BRACE || d === OPEN_BRACKET) depth++;
    else if (d === CLOSE_BRACE || d === CLOSE_BRACKET) {
      depth--;
      if (depth === 0) return i + 1;
    }
    i++;
  }
  return i;
}

/** The members of the object at `i` as [key, value start, value end], and the index just after the object. */
export function members(text: string, i: number, visit: (key: string, start: number, end: number) => void): number {
  return walkMembers(text, i, (key, start) => {
    const end = skipValue(text, start);
    visit(key, start, end);
    return end;
  });
}

/**
 * The members of the object at `i`: `visit` gets each key and where its value starts, and answers the index just
 * after the value (it may walk the value itself, or call skipValue). Answers the index just after the object.
 */
export function walkMembers(text: string, i: number, visit: (key: string, start: number) => number): number {
  i = skipSpace(text, i + 1);
  if (text.charCodeAt(i) === CLOSE_BRACE) return i + 1;
  for (;;) {
    const keyEnd = skipString(text, i);
    const key = unquote(text, i, keyEnd);
    i = skipSpace(text, keyEnd);
    i = skipSpace(text, i + 1); // the colon
    i = skipSpace(text, visit(key, i));
    if (text.charCodeAt(i) === CLOSE_BRACE) return i + 1;
    i = skipSpace(text, i + 1); // the comma
  }
}

/** The string whose JSON text is text[start, end) (quotes included); JSON.parse only when it holds an escape. */
export function unquote(text: string, start: number, end: number): string {
  const inner = text.slice(start + 1, end - 1);
  return inner.includes("\\") ? (JSON.parse(text.slice(start, end)) as string) : inner;
}

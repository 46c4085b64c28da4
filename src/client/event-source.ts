// Opening an EventSource the SDK's way: the client's headers go along (the `eventsource` package honours the
// `fetch` option; a browser's EventSource ignores it and sends its cookies instead).
import { BadRequestError } from "../core/errors.js";
import type { EventSourceFetchInitLike, EventSourceLike } from "./environment.js";
import type { HttpTransport } from "./http.js";

/** An EventSource on `url`; without one in the client options or as a global, a BadRequestError naming it. */
export function openEventSource(http: HttpTransport, url: string): EventSourceLike {
  const { EventSource, fetch, headers } = http.options;
  if (!EventSource) {
    throw new BadRequestError("subscribing needs an EventSource: pass one in the client options (in Node, from the eventsource package)", {
      field: "EventSource",
    });
  }
  const withHeaders = (u: string | URL, init: EventSourceFetchInitLike) =>
    fetch(String(u), { ...init, headers: { ...init.headers, ...headers } } as RequestInit);
  return new EventSource(url, { fetch: withHeaders });
}

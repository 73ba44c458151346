/**
 * Server-Sent Events framing (WHATWG HTML §9.2). Each event is encoded once into a Buffer and
 * the same bytes are written to every subscriber that should see it.
 */

// A CR or LF inside `id` or `event` would end the field early and let data forge other fields
// (CWE-93). Ids come from the store and names from code, but check at the boundary anyway.
const LINE_BREAK = /[\r\n]/;

export interface SseFrame {
  id?: string;
  event?: string;
  /** One line of text: JSON.stringify output never contains a raw line break. */
  data: string;
}

export function encodeFrame(frame: SseFrame): Buffer {
  let text = "";
  if (frame.id !== undefined) {
    if (LINE_BREAK.test(frame.id)) throw new Error("SSE id must not contain CR or LF");
    text += `id: ${frame.id}\n`;
  }
  if (frame.event !== undefined) {
    if (LINE_BREAK.test(frame.event)) throw new Error("SSE event name must not contain CR or LF");
    text += `event: ${frame.event}\n`;
  }
  // Split defensively: should a caller pass multi-line data, each line gets its own `data:`.
  for (const line of frame.data.split(/\r\n|\r|\n/)) text += `data: ${line}\n`;
  return Buffer.from(`${text}\n`, "utf8");
}

export function encodeJsonFrame(event: string | undefined, data: unknown, id?: string): Buffer {
  return encodeFrame({ id, event, data: JSON.stringify(data) });
}

export function encodeRetry(ms: number): Buffer {
  return Buffer.from(`retry: ${Math.max(0, Math.round(ms))}\n\n`, "utf8");
}

/** A comment line: ignored by EventSource, keeps proxies and NAT from closing an idle stream. */
export const HEARTBEAT_COMMENT = Buffer.from(":\n\n", "utf8");

/** Response head written on the raw socket (no chunked encoding: the body ends with the socket). */
export function encodeResponseHead(extraHeaders: Record<string, string>): Buffer {
  const headers: Record<string, string> = {
    "Content-Type": "text/event-stream; charset=utf-8",
    // no-transform stops proxies from compressing or buffering the stream.
    "Cache-Control": "no-cache, no-transform",
    // nginx buffers proxied responses unless told not to.
    "X-Accel-Buffering": "no",
    Connection: "close",
    ...extraHeaders,
  };
  let head = "HTTP/1.1 200 OK\r\n";
  for (const [name, value] of Object.entries(headers)) {
    if (LINE_BREAK.test(name) || LINE_BREAK.test(value))
      throw new Error("header injection refused");
    head += `${name}: ${value}\r\n`;
  }
  return Buffer.from(`${head}\r\n`, "latin1");
}

/**
 * A small SSE client for tests: real socket (fetch), spec parsing of fields, and helpers to
 * wait for messages. It tells which frames came, in which order, with which ids.
 */
export interface SseMessage {
  id: string | undefined;
  event: string;
  data: string;
  /** Parsed `data`, when it is JSON. */
  json: unknown;
}

export interface SseConnection {
  readonly status: number;
  readonly headers: Headers;
  readonly messages: SseMessage[];
  readonly comments: number;
  retry: number | undefined;
  /** Resolves with the first message (from the start) matching `predicate`. */
  waitFor(predicate: (message: SseMessage) => boolean, timeoutMs?: number): Promise<SseMessage>;
  /** Resolves when the server closed the stream. */
  readonly ended: Promise<void>;
  close(): void;
}

export async function openSse(
  url: string,
  headers: Record<string, string> = {},
): Promise<SseConnection> {
  const controller = new AbortController();
  const response = await fetch(url, {
    headers: { Accept: "text/event-stream", ...headers },
    signal: controller.signal,
  });
  const messages: SseMessage[] = [];
  const waiters = new Set<() => void>();
  let comments = 0;
  const connection: SseConnection = {
    status: response.status,
    headers: response.headers,
    messages,
    get comments() {
      return comments;
    },
    retry: undefined,
    waitFor(predicate, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = messages.find(predicate);
          if (found) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve(found);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `no matching SSE message within ${timeoutMs} ms; got ${messages.map((m) => `${m.event}#${m.id}`).join(", ")}`,
            ),
          );
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    ended: Promise.resolve(),
    close: () => controller.abort(),
  };
  if (
    !response.body ||
    !(response.headers.get("content-type") ?? "").startsWith("text/event-stream")
  )
    return connection;

  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let current: { id?: string; event?: string; data: string[] } = { data: [] };
  const dispatchLine = (line: string) => {
    if (line === "") {
      if (current.data.length > 0) {
        const data = current.data.join("\n");
        let json: unknown;
        try {
          json = JSON.parse(data);
        } catch {
          json = undefined;
        }
        messages.push({ id: current.id, event: current.event ?? "message", data, json });
        for (const waiter of [...waiters]) waiter();
      }
      current = { data: [] };
      return;
    }
    if (line.startsWith(":")) {
      comments++;
      return;
    }
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "data") current.data.push(value);
    else if (field === "id") current.id = value;
    else if (field === "event") current.event = value;
    else if (field === "retry") connection.retry = Number(value);
  };
  (connection as { ended: Promise<void> }).ended = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let index = buffer.search(/\r\n|\r|\n/);
        while (index >= 0) {
          const breakLength = buffer.startsWith("\r\n", index) ? 2 : 1;
          dispatchLine(buffer.slice(0, index));
          buffer = buffer.slice(index + breakLength);
          index = buffer.search(/\r\n|\r|\n/);
        }
      }
    } catch {
      // aborted by close() or reset by the server
    }
  })();
  return connection;
}

/**
 * A bare HTTP/1.1 client on a socket, for tests that must send what fetch will not (broken
 * requests, bodies trickled a byte at a time, a body larger than announced) and see when the
 * relay closes the connection.
 */
import { once } from "node:events";
import { connect, type Socket } from "node:net";

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export class RawHttp {
  readonly socket: Socket;
  /** Resolves with ms since the connection opened when the relay closes it. */
  readonly closed: Promise<number>;
  #received = "";
  #opened = performance.now();

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      this.#received += chunk;
    });
    socket.on("error", () => {});
    this.closed = new Promise((resolve) =>
      socket.once("close", () => resolve(performance.now() - this.#opened)),
    );
  }

  static async open(port: number): Promise<RawHttp> {
    const socket = connect({ host: "127.0.0.1", port });
    await once(socket, "connect");
    return new RawHttp(socket);
  }

  get isClosed(): boolean {
    return this.socket.destroyed;
  }

  /** Writes and reports false once the relay closed the connection. */
  async write(data: string | Buffer): Promise<boolean> {
    if (this.socket.destroyed || this.socket.writableEnded) return false;
    return new Promise((resolve) => {
      this.socket.write(data, (error) => resolve(!error && !this.socket.destroyed));
    });
  }

  /** The first response, once its head and (Content-Length) body arrived. */
  async response(timeoutMs = 10_000): Promise<RawResponse> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const parsed = parse(this.#received);
      if (parsed) return parsed;
      if (Date.now() > deadline)
        throw new Error(`no response; got ${JSON.stringify(this.#received)}`);
      if (this.socket.destroyed && !parse(this.#received))
        throw new Error(`closed without response; got ${JSON.stringify(this.#received)}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

function parse(text: string): RawResponse | null {
  const end = text.indexOf("\r\n\r\n");
  if (end < 0) return null;
  const [statusLine = "", ...lines] = text.slice(0, end).split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers["content-length"] ?? 0);
  const body = text.slice(end + 4);
  if (Buffer.byteLength(body, "latin1") < length) return null;
  return {
    status: Number(statusLine.split(" ")[1]),
    headers,
    body: Buffer.from(body.slice(0, length), "latin1").toString("utf8"),
  };
}

/** Waits at most `ms` for `promise`; resolves null when it did not settle in time. */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

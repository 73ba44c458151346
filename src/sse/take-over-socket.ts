/**
 * Takes the socket of a hijacked request away from Node's HTTP server, as Node itself does
 * for an Upgrade: the server's per-connection listeners come off, its parser goes back to the
 * pool, and the request, response and per-connection state become garbage. A stream then costs
 * what its socket costs. Measured on Node 24 with 10,000 streams: 11.5 KiB → 4.3 KiB of RSS
 * per stream for a bare http server, most of it the parser's native memory.
 *
 * Node has no public API for this. The steps mirror `onParserExecuteCommon` in
 * `_http_server.js`, and `freeParser` comes from `node:_http_common` (a public module id,
 * undocumented). Each step is checked first: should a Node version differ, nothing is
 * detached and the stream works as before, only heavier (`takeOverSocket` returns false and
 * take-over-socket.test.ts fails, so the change is noticed).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { createRequire } from "node:module";
import type { Socket } from "node:net";

type FreeParser = (parser: unknown, request: IncomingMessage, socket: Socket) => void;

const freeParser: FreeParser | null = (() => {
  try {
    const common = createRequire(import.meta.url)("node:_http_common") as { freeParser?: unknown };
    return typeof common.freeParser === "function" ? (common.freeParser as FreeParser) : null;
  } catch {
    return null;
  }
})();

/** The listeners `connectionListenerInternal` puts on every socket, by function name. */
const SERVER_LISTENERS: readonly (readonly [event: string, name: string])[] = [
  ["data", "bound socketOnData"],
  ["end", "bound socketOnEnd"],
  ["close", "bound socketOnClose"],
  ["drain", "bound socketOnDrain"],
  ["error", "socketOnError"],
  ["timeout", "socketOnTimeout"],
];
/** Present while the parser consumes the socket natively. */
const CONSUMER_LISTENERS: readonly (readonly [event: string, name: string])[] = [
  ["resume", "onSocketResume"],
  ["pause", "onSocketPause"],
];

type Listener = (...args: unknown[]) => void;

function find(socket: Socket, event: string, name: string): Listener | undefined {
  return socket.listeners(event).find((listener) => listener.name === name) as Listener | undefined;
}

// Shared by every stream: no closure per subscriber.
function ignoreError(): void {
  // A reset connection is reported by "close", which ends the stream.
}
function endWithClient(this: Socket): void {
  // The client closed its side: an SSE stream has nothing more to say to it.
  this.destroy();
}

/**
 * Call once the response head is written, outside the parser's own callbacks (setImmediate):
 * freeing the parser while it still executes would let it run on a released object.
 */
export function takeOverSocket(request: IncomingMessage, response: ServerResponse): boolean {
  const socket = request.socket as Socket & { parser?: unknown; _httpMessage?: unknown };
  if (!freeParser || socket.destroyed || !socket.parser || socket._httpMessage !== response)
    return false;
  const server = SERVER_LISTENERS.map(
    ([event, name]) => [event, find(socket, event, name)] as const,
  );
  if (server.some(([, listener]) => listener === undefined)) return false;
  for (const [event, listener] of server) socket.removeListener(event, listener as Listener);
  for (const [event, name] of CONSUMER_LISTENERS) {
    const listener = find(socket, event, name);
    if (listener) socket.removeListener(event, listener);
  }
  response.detachSocket(socket);
  freeParser(socket.parser, request, socket);
  // The server's own `socket.on` wrapper sees the parser gone and puts Socket's methods back
  // (assigning, not deleting: a deleted property would turn the socket into a slow dictionary
  // object of a few KiB).
  socket.on("error", ignoreError);
  socket.on("end", endWithClient);
  // Whatever the client still sends is read and dropped, so its end is seen.
  socket.resume();
  return true;
}

import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { connect, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { takeOverSocket } from "./take-over-socket.ts";

describe("taking a stream's socket from Node's HTTP server", () => {
  const server = createServer();
  const taken: { request: IncomingMessage; response: ServerResponse; ok: boolean }[] = [];
  let port = 0;
  before(async () => {
    server.on("request", (request: IncomingMessage, response: ServerResponse) => {
      // A pipelined request after the stream's own is never answered (it waits behind it).
      if (request.url !== "/events") return;
      request.socket.write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n");
      setImmediate(() => taken.push({ request, response, ok: takeOverSocket(request, response) }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as { port: number }).port;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  async function stream(extra = ""): Promise<{ client: Socket; received: () => string }> {
    taken.length = 0;
    const client = connect({ host: "127.0.0.1", port });
    let text = "";
    client.on("data", (chunk: Buffer) => (text += chunk.toString()));
    await new Promise((resolve) => client.once("connect", resolve));
    client.write(`GET /events HTTP/1.1\r\nHost: x\r\n\r\n${extra}`);
    while (taken.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    return { client, received: () => text };
  }

  it("detaches the socket on this Node version, which still writes and notices the client leave", async () => {
    const { client, received } = await stream();
    const { request, ok } = taken.shift() as (typeof taken)[number];
    assert.equal(ok, true, "Node's internals are as take-over-socket.ts expects");
    const socket = request.socket as Socket & { parser?: unknown };
    assert.equal(socket.parser, null, "the parser went back to Node");
    assert.equal(socket.listenerCount("data"), 0);
    socket.write("data: after\n\n");
    while (!received().includes("data: after")) await new Promise((r) => setTimeout(r, 5));
    const closed = new Promise((resolve) => socket.once("close", resolve));
    client.end();
    await closed;
    assert.ok(socket.destroyed, "a client that closes its side ends the stream");
  });

  it("reads and drops what a client sends after its request, without failing", async () => {
    const { client, received } = await stream("GET /other HTTP/1.1\r\nHost: x\r\n\r\n");
    const { request, ok } = taken.shift() as (typeof taken)[number];
    assert.equal(ok, true);
    await new Promise((resolve) => client.write("garbage that is not HTTP\r\n\r\n", resolve));
    // The server side has read every byte the client sent, garbage included, before we go on.
    while (request.socket.bytesRead < client.bytesWritten)
      await new Promise((r) => setTimeout(r, 5));
    assert.equal(request.socket.destroyed, false, "the garbage did not end the stream");
    request.socket.write("data: still here\n\n");
    while (!received().includes("data: still here")) await new Promise((r) => setTimeout(r, 5));
    client.destroy();
  });

  it("declines a socket that is already closed", async () => {
    const { client } = await stream();
    const { request, response } = taken.shift() as (typeof taken)[number];
    request.socket.destroy();
    assert.equal(takeOverSocket(request, response), false);
    client.destroy();
  });
});

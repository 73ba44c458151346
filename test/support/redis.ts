/**
 * Test support for the Redis store and lease: each test file starts its own `redis-server`
 * (Debian's binary, memory only, a free port, stopped by PID) unless `REDIS_URL` names one, and
 * throwaway servers that a test may kill and restart to play an outage. Nothing here assumes a
 * Redis already listening.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { createConnection, createServer, type Socket } from "node:net";
import { RedisConnection } from "../../src/store/redis-connection.ts";
import { freePort, waitFor } from "./wait.ts";

export interface TestRedis {
  url: string;
  /** Stops the server this file started; does nothing for a server named by `REDIS_URL`. */
  stop(): Promise<void>;
}

/**
 * The Redis one test file uses: the server named by `REDIS_URL` (tests only read the environment
 * through here), else a private `redis-server` started now. Each test still works under its
 * own key prefix, so a shared server named by `REDIS_URL` is safe.
 */
export async function startTestRedis(): Promise<TestRedis> {
  const named = process.env.REDIS_URL;
  if (named) return { url: named, stop: async () => {} };
  const redis = await ThrowawayRedis.start();
  return { url: redis.url, stop: () => redis.kill() };
}

export function uniqueTestPrefix(): string {
  return `grist-realtime-test:${randomUUID()}:`;
}

/**
 * Visits every key under `prefix` in pages (SCAN, never KEYS, so a shared server is not
 * blocked); `visit` returns how many keys it counted or deleted.
 */
async function forEachKeyPage(
  url: string,
  prefix: string,
  role: string,
  visit: (connection: RedisConnection, keys: string[]) => Promise<number>,
): Promise<number> {
  const connection = new RedisConnection({ url, role });
  await connection.connect();
  let cursor = "0";
  let total = 0;
  try {
    do {
      const [next, keys] = (await connection.send([
        "SCAN",
        cursor,
        "MATCH",
        `${prefix}*`,
        "COUNT",
        "500",
      ])) as [string, string[]];
      cursor = next;
      if (keys.length > 0) total += await visit(connection, keys);
    } while (cursor !== "0");
  } finally {
    await connection.close();
  }
  return total;
}

/** Deletes every key under `prefix`. */
export function deleteKeys(url: string, prefix: string): Promise<number> {
  return forEachKeyPage(url, prefix, "test-cleanup", async (connection, keys) =>
    Number(await connection.send(["DEL", ...keys])),
  );
}

export function countKeys(url: string, prefix: string): Promise<number> {
  return forEachKeyPage(url, prefix, "test-count", async (_connection, keys) => keys.length);
}

/** A private, memory-only `redis-server` on a fixed free port, so it can restart on the same URL. */
export class ThrowawayRedis {
  readonly port: number;
  readonly url: string;
  #process: ChildProcess | null = null;

  private constructor(port: number) {
    this.port = port;
    this.url = `redis://127.0.0.1:${port}`;
  }

  static async start(): Promise<ThrowawayRedis> {
    const redis = new ThrowawayRedis(await freePort());
    await redis.restart();
    return redis;
  }

  /** Starts the server (again) and waits until it answers PING. */
  async restart(): Promise<void> {
    if (this.#process) throw new Error("already running");
    const child = spawn(
      "redis-server",
      ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      { stdio: "ignore" },
    );
    this.#process = child;
    let failure: Error | null = null;
    child.once("error", (error: NodeJS.ErrnoException) => {
      failure =
        error.code === "ENOENT"
          ? new Error("redis-server absent : installez-le (apt-get install redis-server)")
          : error;
    });
    // A test process that ends without its `after` (crash, failed hook) must not leave the
    // server running: kill it by PID on exit, synchronously.
    const killOnExit = () => {
      if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, "SIGKILL");
    };
    process.once("exit", killOnExit);
    child.once("exit", () => {
      process.off("exit", killOnExit);
      if (this.#process === child) this.#process = null;
    });
    await waitFor(
      "redis-server to answer",
      async () => {
        if (failure) throw failure;
        return this.#answers();
      },
      15_000,
    );
  }

  async #answers(): Promise<boolean> {
    const probe = new RedisConnection({ url: this.url, role: "test-probe", initialAttempts: 0 });
    try {
      await probe.connect();
      await probe.close();
      return true;
    } catch {
      return false;
    }
  }

  /** SIGSTOP: the server keeps its sockets open and answers nothing, as a hung host does. */
  freeze(): void {
    this.#process?.kill("SIGSTOP");
  }

  /** SIGCONT: the frozen server answers again, what it received meanwhile included. */
  thaw(): void {
    this.#process?.kill("SIGCONT");
  }

  /** SIGKILL, as a crash: no shutdown, no save. */
  async kill(): Promise<void> {
    const child = this.#process;
    if (!child) return;
    const exited = once(child, "exit");
    child.kill("SIGKILL");
    await exited;
    this.#process = null;
  }
}

/**
 * A TCP relay in front of Redis that a test can cut, to play a network partition of one
 * instance while the others keep writing. Cut: open sockets are destroyed and new ones refused.
 */
export class CuttableProxy {
  readonly url: string;
  readonly #server: ReturnType<typeof createServer>;
  readonly #sockets = new Set<Socket>();
  #cut = false;
  /** What clients sent to Redis since the last restore() (last 64 KB): shows a command got through. */
  sentSinceRestore = "";

  private constructor(server: ReturnType<typeof createServer>, port: number) {
    this.#server = server;
    this.url = `redis://127.0.0.1:${port}`;
  }

  static async start(targetUrl: string): Promise<CuttableProxy> {
    const target = new URL(targetUrl);
    const server = createServer();
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    const proxy = new CuttableProxy(server, address.port);
    server.on("connection", (client) => proxy.#pipe(client, target));
    return proxy;
  }

  #pipe(client: Socket, target: URL): void {
    if (this.#cut) {
      client.destroy();
      return;
    }
    const upstream = createConnection(Number(target.port || 6379), target.hostname);
    for (const socket of [client, upstream]) {
      this.#sockets.add(socket);
      socket.on("error", () => {});
      socket.on("close", () => {
        this.#sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.on("data", (chunk: Buffer) => {
      this.sentSinceRestore = (this.sentSinceRestore + chunk.toString("latin1")).slice(-65_536);
    });
    client.pipe(upstream);
    upstream.pipe(client);
  }

  cut(): void {
    this.#cut = true;
    for (const socket of this.#sockets) socket.destroy();
  }

  restore(): void {
    this.#cut = false;
    this.sentSinceRestore = "";
  }

  async close(): Promise<void> {
    this.cut();
    this.#server.close();
    await once(this.#server, "close");
  }
}

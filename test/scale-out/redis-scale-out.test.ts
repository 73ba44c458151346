/**
 * Several relay processes sharing one Redis: one ordered stream for everybody, each event
 * once, no gap when an instance dies or Redis restarts, and once-per-deployment work (alerts)
 * done once, by whichever instance holds the lease.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { acceptedSends, startFakeHomeserver } from "../support/alerts/fake-homeserver.ts";
import { deleteKeys, startTestRedis, uniqueTestPrefix } from "../support/redis.ts";
import { type RelayProcess, startRelayProcess } from "../support/relay-process.ts";
import { openSse, type SseConnection } from "../support/sse-client.ts";
import { gristRow } from "../support/test-relay.ts";

const dir = mkdtempSync(join(tmpdir(), "grist-realtime-scale-"));
const running: RelayProcess[] = [];
const streams: SseConnection[] = [];
const prefixes: [string, string][] = [];
// This file's own redis-server (or REDIS_URL), stopped last by the hook below.
const fileRedis = await startTestRedis();
after(async () => {
  for (const stream of streams) stream.close();
  await Promise.all(running.map((relay) => relay.kill("SIGKILL")));
  for (const [url, prefix] of prefixes) await deleteKeys(url, prefix).catch(() => 0);
  rmSync(dir, { recursive: true, force: true });
  await fileRedis.stop();
});

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function relays(
  count: number,
  redisUrl: string,
  extra: Record<string, string> = {},
): Promise<RelayProcess[]> {
  const prefix = uniqueTestPrefix();
  prefixes.push([redisUrl, prefix]);
  const settled = await Promise.allSettled(
    Array.from({ length: count }, (_, i) =>
      startRelayProcess({
        STORE: "redis",
        REDIS_URL: redisUrl,
        REDIS_KEY_PREFIX: prefix,
        DATA_DIR: join(dir, `${prefix.replaceAll(":", "_")}${i}`),
        HEARTBEAT_MS: "1000",
        ...extra,
      }),
    ),
  );
  // Every relay that started is killed by `after`, even when another one failed to start:
  // a live child left out of `running` kept the file alive until the runner's timeout.
  const started = settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  running.push(...started);
  const failed = settled.find((s) => s.status === "rejected");
  if (failed) throw failed.reason;
  return started;
}

async function subscribe(
  relay: RelayProcess,
  headers: Record<string, string> = {},
): Promise<SseConnection> {
  const stream = await openSse(`${relay.url}/events`, headers);
  streams.push(stream);
  if (!headers["Last-Event-ID"]) await stream.waitFor((m) => m.event === "snapshot");
  return stream;
}

function post(relay: RelayProcess, rows: unknown[]): Promise<Response> {
  return fetch(`${relay.url}/webhooks/grist`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(rows),
  });
}

async function allEventIds(relay: RelayProcess): Promise<string[]> {
  const body = (await (await fetch(`${relay.url}/api/events?limit=1000`)).json()) as {
    events: { id: string }[];
  };
  return body.events.map((event) => event.id);
}

const recordIds = (stream: SseConnection) =>
  stream.messages.filter((m) => m.event.startsWith("record.")).map((m) => m.id as string);

describe("scale-out on Redis (relay processes)", () => {
  it("gives every subscriber of every instance every event once, in the same order", async () => {
    const [a, b, c] = (await relays(3, fileRedis.url)) as [
      RelayProcess,
      RelayProcess,
      RelayProcess,
    ];
    const subscribers = [
      await subscribe(a),
      await subscribe(b),
      await subscribe(c),
      await subscribe(c),
    ];
    for (let id = 1; id <= 30; id++) assert.equal((await post(a, [gristRow(id)])).status, 200);
    await post(b, [gristRow(3, { Statut: "Bloqué" })]);
    const expected = await allEventIds(c);
    assert.equal(expected.length, 31);
    for (const stream of subscribers) {
      await stream.waitFor((m) => m.id === expected.at(-1));
      assert.deepEqual(recordIds(stream), expected);
    }
  });

  it("stores each event once when the same Grist batch reaches two instances at the same moment", async () => {
    const [a, b] = (await relays(2, fileRedis.url)) as [RelayProcess, RelayProcess];
    const batch = Array.from({ length: 20 }, (_, i) => gristRow(i + 1));
    const answers = await Promise.all([
      post(a, batch),
      post(b, batch),
      post(a, batch),
      post(b, batch),
    ]);
    assert.deepEqual(
      answers.map((r) => r.status),
      [200, 200, 200, 200],
    );
    const events = (await Promise.all(answers.map((r) => r.json()))) as { events: number }[];
    assert.equal(
      events.reduce((sum, answer) => sum + answer.events, 0),
      20,
    );
    assert.equal((await allEventIds(b)).length, 20);
  });

  it("lets the clients of a killed instance resume on another one with no gap", async () => {
    const [a, b, c] = (await relays(3, fileRedis.url)) as [
      RelayProcess,
      RelayProcess,
      RelayProcess,
    ];
    const onB = await subscribe(b);
    const producing = (async () => {
      for (let id = 1; id <= 60; id++) {
        await post(a, [gristRow(id)]);
        await wait(5);
      }
    })();
    await onB.waitFor((m) => m.event === "record.added");
    await wait(50);
    await b.kill("SIGKILL");
    await onB.ended;
    const seen = recordIds(onB);
    const resumed = await subscribe(c, { "Last-Event-ID": seen.at(-1) as string });
    await producing;
    const expected = await allEventIds(a);
    await resumed.waitFor((m) => m.id === expected.at(-1));
    assert.deepEqual([...seen, ...recordIds(resumed)], expected);
  });

  it("answers 503 while Redis is down, then delivers every acknowledged event exactly once", async () => {
    const redis = await startOwnRedis();
    try {
      const [a, b] = (await relays(2, redis.url)) as [RelayProcess, RelayProcess];
      const watchers = [await subscribe(a), await subscribe(b)];
      const acknowledged: number[] = [];
      for (let id = 1; id <= 10; id++)
        if ((await post(a, [gristRow(id)])).status === 200) acknowledged.push(id);
      await redis.stop();
      const refused = await post(a, [gristRow(11)]);
      assert.equal(refused.status, 503, "Grist keeps the batch and retries");
      assert.ok(refused.headers.get("retry-after"));
      assert.equal((await fetch(`${b.url}/readyz`)).status, 503);
      assert.equal(
        (await fetch(`${b.url}/livez`)).status,
        200,
        "liveness does not depend on Redis",
      );
      await redis.start();
      const deadline = Date.now() + 15_000;
      while ((await fetch(`${a.url}/readyz`)).status !== 200 && Date.now() < deadline)
        await wait(100);
      for (let id = 11; id <= 20; id++)
        if ((await post(a, [gristRow(id)])).status === 200) acknowledged.push(id);
      assert.equal(acknowledged.length, 20);
      const expected = await allEventIds(b);
      assert.equal(
        expected.length,
        20,
        "what was acknowledged before the outage survived it (AOF)",
      );
      for (const stream of watchers) {
        await stream.waitFor((m) => m.id === expected.at(-1), 10_000);
        assert.deepEqual(
          recordIds(stream),
          expected,
          "the open stream stayed up: no gap, no duplicate",
        );
      }
    } finally {
      await redis.stop();
    }
  });

  it("sends each alert once and moves the sending to a surviving instance when the holder is killed", async () => {
    const homeserver = await startFakeHomeserver({
      tokens: { "bot-token": "@bot:test" },
      rooms: { "!salle:test": { members: ["@bot:test"] } },
    });
    try {
      const [a, b, c] = (await relays(3, fileRedis.url, {
        TCHAP_HOMESERVER_URL: homeserver.url,
        TCHAP_ACCESS_TOKEN: "bot-token",
        TCHAP_ROOM_ID: "!salle:test",
        LEASE_TTL_MS: "1500",
      })) as [RelayProcess, RelayProcess, RelayProcess];
      await post(a, [gristRow(1, { Priorite: "Urgente" })]);
      await post(b, [gristRow(1, { Priorite: "Urgente" })]);
      let deadline = Date.now() + 10_000;
      while (homeserver.messages.length < 1 && Date.now() < deadline) await wait(50);
      await wait(500);
      // Requests, not messages: two holders sending the same txnId would leave one message.
      assert.equal(acceptedSends(homeserver).length, 1, "three instances, one alert");
      // Whoever held the lease, only c survives now.
      await Promise.all([a.kill("SIGKILL"), b.kill("SIGKILL")]);
      await post(c, [gristRow(2, { Priorite: "Urgente" })]);
      deadline = Date.now() + 10_000;
      while (homeserver.messages.length < 2 && Date.now() < deadline) await wait(50);
      await wait(500);
      const references = homeserver.messages.map(
        (m) => /INT-\d+/.exec(String(m.content.body))?.[0],
      );
      assert.deepEqual(references, ["INT-001", "INT-002"]);
      assert.equal(acceptedSends(homeserver).length, 2);
    } finally {
      await homeserver.close();
    }
  });
});

/** A redis-server with AOF fsync on every write, so a crash loses nothing it acknowledged. */
async function startOwnRedis() {
  const port = await new Promise<number>((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
  const dataDir = mkdtempSync(join(dir, "redis-"));
  let child: ChildProcess | null = null;
  const url = `redis://127.0.0.1:${port}`;
  prefixes.push([url, "grist-realtime-test"]);
  const redis = {
    url,
    async start() {
      child = spawn(
        "redis-server",
        [
          "--port",
          String(port),
          "--bind",
          "127.0.0.1",
          "--save",
          "",
          "--appendonly",
          "yes",
          "--appendfsync",
          "always",
          "--dir",
          dataDir,
        ],
        { stdio: "ignore" },
      );
      const deadline = Date.now() + 5000;
      for (;;) {
        const ok = await new Promise<boolean>((resolve) => {
          const probe = createConnectionProbe(port, resolve);
          probe.on("error", () => resolve(false));
        });
        if (ok) return;
        if (Date.now() > deadline) throw new Error("redis-server did not start");
        await wait(50);
      }
    },
    async stop() {
      const current = child;
      child = null;
      if (!current || current.exitCode !== null) return;
      const exited = once(current, "exit");
      current.kill("SIGKILL");
      await exited;
    },
  };
  await redis.start();
  return redis;
}

function createConnectionProbe(port: number, resolve: (ok: boolean) => void) {
  const socket = connect(port, "127.0.0.1", () => {
    socket.write("PING\r\n");
  });
  socket.once("data", (data) => {
    resolve(data.toString().startsWith("+PONG"));
    socket.destroy();
  });
  return socket;
}

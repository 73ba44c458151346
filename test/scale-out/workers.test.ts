/**
 * WORKERS: one `grist-realtime serve` forking several relay processes on one port (Node's
 * cluster), each a full instance on Redis. Streams land on any worker and still get every
 * event once; `/metrics` shows every worker in one scrape; SIGTERM stops them all; SQLite
 * refuses to start with several workers.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ThrowawayRedis, uniqueTestPrefix } from "../support/redis.ts";
import { type RelayProcess, runCli, startRelayProcess } from "../support/relay-process.ts";
import { openSse, type SseConnection } from "../support/sse-client.ts";
import { gristRow } from "../support/test-relay.ts";
import { waitFor } from "../support/wait.ts";

const dataDir = mkdtempSync(join(tmpdir(), "grist-realtime-workers-"));
after(() => rmSync(dataDir, { recursive: true, force: true }));

function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    const list = readFileSync(`/proc/${pid}/task/${task}/children`, "utf8").trim();
    if (list) children.push(...list.split(" ").map(Number));
  }
  return children;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A request on a connection of its own, so the kernel may hand it to any worker. */
function fresh(
  url: string,
  method: "GET" | "POST",
  body?: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method, agent: false, headers: { "Content-Type": "application/json" } },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (text += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.once("error", reject);
    req.end(body);
  });
}

/** Sum of every sample of `name` in a Prometheus text. */
function metric(text: string, name: string): number {
  return text
    .split("\n")
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(" ") + 1)), 0);
}

describe("WORKERS on Redis", () => {
  let redis: ThrowawayRedis;
  let relay: RelayProcess;
  const streams: SseConnection[] = [];

  before(async () => {
    redis = await ThrowawayRedis.start();
    relay = await startRelayProcess({
      STORE: "redis",
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: uniqueTestPrefix(),
      WORKERS: "2",
      DATA_DIR: dataDir,
    });
    const pid = relay.child.pid as number;
    // The first worker's "listening" line started the test; the second may follow.
    await waitFor(
      "two workers listening",
      () => {
        return (relay.output().match(/"relay listening"/g) ?? []).length === 2;
      },
      20_000,
    );
    assert.equal(childrenOf(pid).length, 2);
  });

  after(async () => {
    for (const stream of streams) stream.close();
    await relay?.kill("SIGKILL");
    await redis?.kill();
  });

  it("gives every stream, whichever worker holds it, every event once", async () => {
    for (let i = 0; i < 4; i++) {
      const stream = await openSse(`${relay.url}/events`);
      streams.push(stream);
      await stream.waitFor((m) => m.event === "snapshot");
    }
    for (let id = 1; id <= 6; id++) {
      const answer = await fresh(
        `${relay.url}/webhooks/grist`,
        "POST",
        JSON.stringify([gristRow(id)]),
      );
      assert.equal(answer.status, 200);
    }
    for (const stream of streams) {
      await stream.waitFor(
        (m) => m.event === "record.added" && (m.json as { record: { id: number } }).record.id === 6,
      );
      const added = stream.messages.filter((m) => m.event === "record.added");
      assert.deepEqual(
        added.map((m) => (m.json as { record: { id: number } }).record.id),
        [1, 2, 3, 4, 5, 6],
      );
    }
  });

  it("shows every worker's streams and webhooks in each /metrics scrape", async () => {
    // Four scrapes on fresh connections land on both workers; each must show the whole.
    for (let i = 0; i < 4; i++) {
      const { status, text } = await fresh(`${relay.url}/metrics`, "GET");
      assert.equal(status, 200);
      assert.equal(metric(text, "relay_sse_clients"), 4);
      assert.equal(metric(text, "relay_webhook_requests_total"), 6);
    }
  });

  it("stops every worker on SIGTERM, then exits 0", async () => {
    const workers = childrenOf(relay.child.pid as number);
    assert.equal(workers.length, 2);
    for (const stream of streams) stream.close();
    streams.length = 0;
    assert.equal(await relay.kill("SIGTERM"), 0);
    for (const pid of workers) await waitFor(`worker ${pid} gone`, () => !alive(pid));
    assert.match(relay.output(), /"all workers stopped"/);
  });
});

describe("WORKERS with SQLite", () => {
  it("refuses to start, saying why", async () => {
    const { code, stderr } = await runCli(["serve"], {
      STORE: "sqlite",
      WORKERS: "2",
      DATA_DIR: dataDir,
    });
    assert.equal(code, 2);
    assert.match(stderr, /WORKERS .*2 processus exigent STORE=redis/);
  });
});

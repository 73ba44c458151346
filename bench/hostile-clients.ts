/**
 * Issue 12 measurements, against a real relay process (not a timed test):
 * 1. RSS growth with 60 non-reading filtered streams during an ~8 MB snapshot;
 * 2. time to close a webhook without secret whose body trickles;
 * 3. with STORE=redis and a throwaway redis-server: SIGSTOP → first 503, → /readyz 503.
 * Run: node bench/hostile-clients.ts [--root DIR] (DIR: another checkout, to compare).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { rssKiB } from "./proc-stats.ts";

const { values } = parseArgs({ options: { root: { type: "string" } } });
const ROOT = resolve(values.root ?? new URL("..", import.meta.url).pathname);
const SECRET = "bench-webhook-secret-0123456789";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function startRelay(
  env: Record<string, string>,
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [join(ROOT, "src/cli/main.ts"), "serve"], {
    env: { PATH: process.env.PATH ?? "", HOST: "127.0.0.1", PORT: "0", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  const url = await new Promise<string>((resolveUrl, reject) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const match = /"url":"(http:\/\/[^"]+)"/.exec(out);
      if (match?.[1]) resolveUrl(match[1]);
    });
    child.once("exit", (code) => reject(new Error(`relay exited ${code}: ${out}`)));
  });
  return { child, url };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGKILL");
  await exited;
}

function row(id: number) {
  return {
    id,
    ID2: `INT-${id}`,
    Agent: "Agent",
    Localisation: `${id} rue de la République, 13001 Marseille`,
    Type: "Voirie",
    Statut: "En attente",
    Priorite: "Normale",
    Commentaire: "c".repeat(3800),
  };
}

async function post(url: string, rows: unknown[]): Promise<number> {
  const response = await fetch(`${url}/webhooks/grist`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${SECRET}` },
    body: JSON.stringify(rows),
  });
  await response.arrayBuffer();
  return response.status;
}

function nonReading(url: string, path: string): Socket {
  const { port } = new URL(url);
  const socket = connect({ host: "127.0.0.1", port: Number(port) });
  socket.on("error", () => {});
  socket.once("connect", () => {
    socket.write(`GET ${path} HTTP/1.1\r\nHost: relay\r\n\r\n`);
    socket.pause();
  });
  return socket;
}

/** Size of the snapshot frame as a stream receives it. */
async function sseSnapshotBytes(url: string): Promise<ArrayBuffer> {
  const controller = new AbortController();
  const response = await fetch(`${url}/events`, { signal: controller.signal });
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  let text = "";
  const decoder = new TextDecoder();
  while (!/event: snapshot\n[\s\S]*?\n\n/.test(text)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  controller.abort();
  const frame = /id: [^\n]*\nevent: snapshot\n[\s\S]*?\n\n/.exec(text)?.[0] ?? "";
  return new TextEncoder().encode(frame).buffer as ArrayBuffer;
}

async function memory(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), "bench-hostile-"));
  const { child, url } = await startRelay({
    DATA_DIR: dataDir,
    WEBHOOK_SECRET: SECRET,
    MAX_STREAMS_PER_IP: "1000",
  });
  try {
    for (let start = 1; start <= 1000; start += 250)
      await post(
        url,
        Array.from({ length: 250 }, (_, i) => row(start + i)),
      );
    const snapshot = await sseSnapshotBytes(url);
    await sleep(500);
    const before = rssKiB(child.pid as number);
    const sockets = Array.from({ length: 60 }, () => nonReading(url, "/events?departement=13"));
    let peak = before;
    for (let i = 0; i < 50; i++) {
      await sleep(100);
      peak = Math.max(peak, rssKiB(child.pid as number));
    }
    for (const socket of sockets) socket.destroy();
    console.log(
      `memory: snapshot ${(snapshot.byteLength / 1e6).toFixed(1)} MB, RSS before ${(before / 1024).toFixed(0)} MiB, peak with 60 non-reading filtered streams ${(peak / 1024).toFixed(0)} MiB, growth ${((peak - before) / 1024).toFixed(0)} MiB`,
    );
  } finally {
    await stop(child);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function trickle(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), "bench-hostile-"));
  const { child, url } = await startRelay({ DATA_DIR: dataDir, WEBHOOK_SECRET: SECRET });
  try {
    const { port } = new URL(url);
    const socket = connect({ host: "127.0.0.1", port: Number(port) });
    socket.on("error", () => {});
    await once(socket, "connect");
    const started = performance.now();
    socket.write(
      "POST /webhooks/grist HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n[",
    );
    const timer = setInterval(() => socket.write(" "), 5000);
    socket.resume();
    const closed = await Promise.race([once(socket, "close").then(() => true), sleep(30_000)]);
    clearInterval(timer);
    socket.destroy();
    console.log(
      closed
        ? `trickle: unauthenticated body closed after ${Math.round(performance.now() - started)} ms`
        : "trickle: still open after 30 s",
    );
  } finally {
    await stop(child);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  server.close();
  return typeof address === "object" && address ? address.port : 0;
}

async function frozenRedis(): Promise<void> {
  const port = await freePort();
  const redis = spawn(
    "redis-server",
    ["--port", String(port), "--save", "", "--appendonly", "no"],
    {
      stdio: "ignore",
    },
  );
  await sleep(300);
  const { child, url } = await startRelay({
    STORE: "redis",
    REDIS_URL: `redis://127.0.0.1:${port}`,
    WEBHOOK_SECRET: SECRET,
  });
  try {
    await post(url, [row(1)]);
    redis.kill("SIGSTOP");
    const frozenAt = performance.now();
    const readyz = (async () => {
      for (;;) {
        const response = await fetch(`${url}/readyz`).catch(() => null);
        if (response?.status === 503) return performance.now() - frozenAt;
        await sleep(50);
      }
    })();
    const status = await Promise.race([post(url, [row(2)]), sleep(15_000).then(() => 0)]);
    const firstMs = performance.now() - frozenAt;
    const readyzMs = await Promise.race([readyz, sleep(15_000).then(() => Number.NaN)]);
    console.log(
      `redis frozen (REDIS_COMMAND_TIMEOUT_MS default): webhook answered ${status} after ${Math.round(firstMs)} ms, /readyz 503 after ${Math.round(readyzMs)} ms`,
    );
  } finally {
    redis.kill("SIGCONT");
    await stop(child);
    redis.kill("SIGKILL");
  }
}

await memory();
await trickle();
await frozenRedis();

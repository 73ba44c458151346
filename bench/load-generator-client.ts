/** The orchestrator's handle on the load generator process: one command at a time over IPC. */
import type { ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type {
  AckReport,
  Command,
  IdleReport,
  PublishReport,
  Reply,
  StormReport,
} from "./load-generator/protocol.ts";
import type { ConnectResult } from "./load-generator/subscriber-pool.ts";
import { spawnLimited } from "./spawn-limited.ts";

const MAIN = fileURLToPath(new URL("./load-generator/main.ts", import.meta.url));

export interface Answer<T> {
  result: T;
  cpuUs: number;
  wallMs: number;
  eventLoopDelayMs: { p99: number; max: number };
}

export class LoadGenerator {
  readonly #child: ChildProcess;
  readonly #waiting = new Map<number, (reply: Reply) => void>();
  #nextId = 1;

  constructor(subscribers: number) {
    this.#child = spawnLimited(process.execPath, [MAIN], subscribers + 1000, {
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      env: { PATH: process.env.PATH ?? "" },
    });
    this.#child.on("message", (reply: Reply) => {
      this.#waiting.get(reply.id)?.(reply);
      this.#waiting.delete(reply.id);
    });
    this.#child.once("exit", (code) => {
      for (const waiter of this.#waiting.values())
        waiter({
          id: 0,
          ok: false,
          error: `load generator exited with ${code}`,
          cpuUs: 0,
          wallMs: 0,
        });
      this.#waiting.clear();
    });
  }

  get pid(): number {
    return this.#child.pid as number;
  }

  #send<T>(command: Command, timeoutMs: number): Promise<Answer<T>> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        reject(new Error(`load generator: ${command.type} took more than ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiting.set(id, (reply) => {
        clearTimeout(timer);
        if (!reply.ok) reject(new Error(`load generator: ${reply.error}`));
        else
          resolve({
            result: reply.result as T,
            cpuUs: reply.cpuUs,
            wallMs: reply.wallMs,
            eventLoopDelayMs: reply.eventLoopDelayMs ?? { p99: 0, max: 0 },
          });
      });
      this.#child.send({ id, command });
    });
  }

  connect(command: Extract<Command, { type: "connect" }>, timeoutMs: number) {
    return this.#send<ConnectResult>(command, timeoutMs);
  }

  publish(command: Extract<Command, { type: "publish" }>, timeoutMs: number) {
    return this.#send<PublishReport>(command, timeoutMs);
  }

  idle(seconds: number) {
    return this.#send<IdleReport>({ type: "idle", seconds }, seconds * 1000 + 30_000);
  }

  acks(command: Extract<Command, { type: "acks" }>, timeoutMs: number) {
    return this.#send<AckReport>(command, timeoutMs);
  }

  storm(command: Extract<Command, { type: "storm" }>, timeoutMs: number) {
    return this.#send<StormReport>(command, timeoutMs);
  }

  disconnect() {
    return this.#send<{ closed: number }>({ type: "disconnect" }, 60_000);
  }

  stop(): Promise<void> {
    if (this.#child.exitCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.#child.once("exit", () => resolve());
      this.#child.disconnect();
      setTimeout(() => this.#child.kill("SIGKILL"), 5000).unref();
    });
  }
}

/**
 * Calls into a worker thread and answers them there. The Matrix client runs in a worker because
 * matrix-js-sdk arms a timer per HTTP request that it never clears (up to 110 s per /sync):
 * in the relay's own thread they would hold a stopping process open; a worker is terminated
 * with everything it armed. It also keeps the in-memory IndexedDB out of the relay's globals.
 */
import { parentPort, Worker } from "node:worker_threads";

interface Request {
  id: number;
  op: string;
  args: unknown;
}

type Response = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

export interface RpcWorker {
  call<T>(op: string, args?: unknown): Promise<T>;
  terminate(): Promise<void>;
}

export function startRpcWorker(url: URL): RpcWorker {
  const worker = new Worker(url);
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  let nextId = 1;
  let dead: Error | null = null;
  const failAll = (error: Error) => {
    dead = error;
    for (const { reject } of pending.values()) reject(error);
    pending.clear();
  };
  worker.on("message", (response: Response) => {
    const waiter = pending.get(response.id);
    pending.delete(response.id);
    if (response.ok) waiter?.resolve(response.value);
    else waiter?.reject(new Error(response.error));
  });
  worker.on("error", (error) => failAll(error));
  worker.on("exit", (code) => failAll(new Error(`Matrix worker exited (${code})`)));
  return {
    call<T>(op: string, args?: unknown) {
      if (dead) return Promise.reject(dead);
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
        worker.postMessage({ id, op, args } satisfies Request);
      });
    },
    async terminate() {
      await worker.terminate();
    },
  };
}

/** In the worker: answers each call with its handler's result, or the error's message. */
export function serveRpc(handlers: Record<string, (args: never) => Promise<unknown>>): void {
  const port = parentPort;
  if (!port) throw new Error("serveRpc runs in a worker thread");
  port.on("message", async (request: Request) => {
    const handler = handlers[request.op];
    try {
      if (!handler) throw new Error(`unknown operation ${request.op}`);
      const value = await handler(request.args as never);
      port.postMessage({ id: request.id, ok: true, value } satisfies Response);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      port.postMessage({ id: request.id, ok: false, error: message } satisfies Response);
    }
  });
}

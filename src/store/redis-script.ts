/**
 * A Lua script run by its SHA1 (EVALSHA), falling back to the source once when the server does
 * not know it yet (first use, or after a Redis restart flushed the script cache).
 */
import { createHash } from "node:crypto";
import { ErrorReply } from "redis";
import type { RedisConnection } from "./redis-connection.ts";

export class LuaScript {
  readonly source: string;
  readonly sha: string;

  constructor(source: string) {
    this.source = source;
    this.sha = createHash("sha1").update(source).digest("hex");
  }

  /** Keys are declared apart from arguments, as Redis requires for scripts that touch them. */
  async run(
    connection: RedisConnection,
    keys: readonly string[],
    args: readonly string[],
  ): Promise<unknown> {
    const tail = [String(keys.length), ...keys, ...args];
    try {
      return await connection.send(["EVALSHA", this.sha, ...tail]);
    } catch (error) {
      if (!(error instanceof ErrorReply) || !error.message.startsWith("NOSCRIPT")) throw error;
      return connection.send(["EVAL", this.source, ...tail]);
    }
  }
}

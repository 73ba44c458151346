/**
 * nchan, the nginx pub/sub module, as the yardstick: nginx started by the bench on loopback
 * with its own configuration in a temporary folder, in the foreground, as a child process.
 *
 * One worker (`worker_processes 1`): the relay is one Node process running JavaScript on one
 * thread, so one nginx worker gives both the same share of the machine; `auto` would take both
 * cores of this machine, which the load generator needs.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { childrenOf } from "../proc-stats.ts";
import { spawnLimited } from "../spawn-limited.ts";
import { freePort, stopChild, type Target, waitUntilUp } from "./target.ts";

const MODULE = "/usr/lib/nginx/modules/ngx_nchan_module.so";
// dpkg-query's own placeholder syntax, not a template string.
const VERSION_FORMAT = "$" + "{Version}";
const PACKAGES = ["nginx-light", "libnginx-mod-nchan"];

function installed(): boolean {
  return spawnSync("nginx", ["-v"]).status === 0 && existsSync(MODULE);
}

/** Installs nginx and the module with apt when missing (Debian; needs root). */
export function ensureNchan(): void {
  if (installed()) return;
  process.stderr.write(`nchan missing: apt-get install -y ${PACKAGES.join(" ")}\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  execFileSync("apt-get", ["update"], { stdio: "inherit", env });
  execFileSync("apt-get", ["install", "-y", ...PACKAGES], { stdio: "inherit", env });
  if (!installed()) throw new Error(`nginx with ${MODULE} is still missing after apt-get`);
}

function versions(): string {
  const nginx = spawnSync("nginx", ["-v"], { encoding: "utf8" }).stderr.trim();
  const nchan = spawnSync("dpkg-query", ["-W", "-f", VERSION_FORMAT, "libnginx-mod-nchan"], {
    encoding: "utf8",
  }).stdout.trim();
  return `${nginx.replace("nginx version: ", "")}, nchan ${nchan || "?"}`;
}

function configuration(dir: string, port: number, subscribers: number): string {
  const connections = subscribers + 1000;
  return `load_module ${MODULE};
worker_processes 1;
worker_rlimit_nofile ${connections};
error_log ${dir}/error.log warn;
pid ${dir}/nginx.pid;
events { worker_connections ${connections}; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location = /livez { return 200 "ok"; }
    location = /pub {
      nchan_publisher;
      nchan_channel_id bench;
      nchan_message_buffer_length 1000;
      nchan_message_timeout 1h;
      client_max_body_size 5m;
      # Bodies stay in memory, as the relay's do.
      client_body_buffer_size 1m;
    }
    location = /sub {
      nchan_subscriber eventsource;
      nchan_channel_id bench;
      nchan_subscriber_first_message newest;
      # Same keep-alive as the relay: a comment every 30 s (nchan's default is none).
      nchan_eventsource_ping_interval 30;
      nchan_eventsource_ping_event "";
      nchan_eventsource_ping_comment "";
    }
  }
}
`;
}

export async function startNchan(options: { subscribers: number }): Promise<Target> {
  ensureNchan();
  const dir = mkdtempSync(join(tmpdir(), "grist-realtime-nchan-"));
  mkdirSync(join(dir, "logs"));
  const port = await freePort();
  const conf = join(dir, "nginx.conf");
  writeFileSync(conf, configuration(dir, port, options.subscribers));
  const child = spawnLimited(
    "nginx",
    ["-p", dir, "-c", conf, "-g", "daemon off;"],
    options.subscribers + 1000,
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  try {
    await waitUntilUp(`http://127.0.0.1:${port}/livez`, child, () => output);
  } catch (error) {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const master = child.pid as number;
  return {
    name: "nchan",
    description: `${versions()}, worker_processes 1`,
    stream: {
      host: "127.0.0.1",
      port,
      path: "/sub",
      headers: { Accept: "text/event-stream" },
      readyOn: "head",
    },
    publish: { host: "127.0.0.1", port, path: "/pub", headers: {}, body: "relay-event" },
    pids: () => [master, ...childrenOf(master)],
    async stop() {
      // nginx's graceful stop is SIGQUIT; SIGTERM is its fast stop, which is what we want.
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

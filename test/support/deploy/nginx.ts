/**
 * Runs the system's nginx with the shipped deploy/nginx files, on a free port and in its own
 * temporary prefix. Only what cannot work in a test is rewritten (paths, ports, the relay's
 * address, optionally the number of workers), and each rewrite must find its line, so a change
 * in the shipped files cannot silently escape the test. Stopped by its master's PID.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO } from "./dockerfile.ts";
import { freePort, run, type Started, start } from "./processes.ts";

export const NGINX = "/usr/sbin/nginx";

export interface TestNginx {
  port: number;
  prefix: string;
  accessLog(): string;
  /** The master's PID. */
  pid: number;
  stop(): Promise<void>;
}

function rewrite(text: string, from: string | RegExp, to: string, file: string): string {
  const found = typeof from === "string" ? text.includes(from) : from.test(text);
  if (!found) throw new Error(`deploy/nginx/${file} no longer contains ${from}`);
  return text.replaceAll(from, to);
}

export async function startNginx(options: {
  relayPort: number;
  workers?: number;
}): Promise<TestNginx> {
  const prefix = mkdtempSync(join(tmpdir(), "grist-realtime-nginx-"));
  for (const folder of ["conf.d", "logs", "tmp"]) mkdirSync(join(prefix, folder));
  const port = await freePort();
  const shipped = (file: string) => readFileSync(join(REPO, "deploy/nginx", file), "utf8");

  let main = shipped("nginx.conf");
  main = rewrite(main, "pid /run/nginx.pid;", `pid ${prefix}/nginx.pid;`, "nginx.conf");
  main = rewrite(main, "/var/log/nginx/", `${prefix}/logs/`, "nginx.conf");
  main = rewrite(main, "/etc/nginx/conf.d/", `${prefix}/conf.d/`, "nginx.conf");
  // Temporary folders inside the prefix (nginx creates them at start even if never used).
  main = rewrite(
    main,
    "http {\n",
    `http {\n${["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((kind) => `    ${kind}_temp_path ${prefix}/tmp/${kind};\n`).join("")}`,
    "nginx.conf",
  );
  if (options.workers !== undefined)
    main = rewrite(
      main,
      "worker_processes auto;",
      `worker_processes ${options.workers};`,
      "nginx.conf",
    );
  writeFileSync(join(prefix, "nginx.conf"), main);

  let site = shipped("grist-realtime.conf");
  site = rewrite(site, "listen 80;", `listen 127.0.0.1:${port};`, "grist-realtime.conf");
  site = rewrite(site, "/var/log/nginx/", `${prefix}/logs/`, "grist-realtime.conf");
  writeFileSync(join(prefix, "conf.d/grist-realtime.conf"), site);

  const upstream = rewrite(
    shipped("upstream.conf"),
    "server 127.0.0.1:8080;",
    `server 127.0.0.1:${options.relayPort};`,
    "upstream.conf",
  );
  writeFileSync(join(prefix, "conf.d/upstream.conf"), upstream);

  const args = [
    "-p",
    prefix,
    "-c",
    join(prefix, "nginx.conf"),
    "-e",
    join(prefix, "logs/error.log"),
  ];
  await run(NGINX, [...args, "-t", "-q"], {});
  const master: Started = start(NGINX, [...args, "-g", "daemon off;"], {});
  const pid = master.child.pid ?? 0;
  // Ready once it accepts connections.
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${port}/livez`).then(
      () => true,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline || master.child.exitCode !== null)
      throw new Error(`nginx did not start:\n${master.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    port,
    prefix,
    pid,
    accessLog: () => readFileSync(join(prefix, "logs/access.log"), "utf8"),
    async stop() {
      if (master.child.exitCode === null) {
        // SIGTERM: fast stop of the master and its workers; a graceful SIGQUIT would wait for
        // every open SSE stream to end.
        process.kill(pid, "SIGTERM");
        await master.exited;
      }
      rmSync(prefix, { recursive: true, force: true });
    },
  };
}

/**
 * Reads deploy/Dockerfile as the image builder would, so tests can run its commands without
 * Docker: the RUN commands, the runtime stage's ENV, CMD and HEALTHCHECK command.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const REPO = fileURLToPath(new URL("../../../", import.meta.url));

export interface Dockerfile {
  /** Every RUN command, in order, with the stage it belongs to (0 = first FROM). */
  runs: { stage: number; command: string }[];
  /** ENV of the last stage. */
  env: Record<string, string>;
  cmd: string[];
  healthcheck: string[];
}

/** Joins continuation lines and drops comments, as Docker does. */
function instructions(text: string): string[] {
  const out: string[] = [];
  let current = "";
  for (const line of text.split("\n")) {
    if (/^\s*#/.test(line)) continue;
    if (line.endsWith("\\")) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    current += line;
    if (current.trim() !== "") out.push(current.trim().replace(/\s+/g, " "));
    current = "";
  }
  return out;
}

export function readDockerfile(path = `${REPO}deploy/Dockerfile`): Dockerfile {
  const result: Dockerfile = { runs: [], env: {}, cmd: [], healthcheck: [] };
  let stage = -1;
  for (const instruction of instructions(readFileSync(path, "utf8"))) {
    const [keyword = "", ...rest] = instruction.split(" ");
    const args = rest.join(" ");
    if (keyword === "FROM") {
      stage++;
      result.env = {};
    } else if (keyword === "RUN") {
      result.runs.push({ stage, command: args });
    } else if (keyword === "ENV") {
      for (const pair of args.split(" ")) {
        const [name = "", value = ""] = pair.split("=");
        result.env[name] = value;
      }
    } else if (keyword === "CMD") {
      result.cmd = JSON.parse(args) as string[];
    } else if (keyword === "HEALTHCHECK") {
      const exec = args.slice(args.indexOf("CMD ") + 4);
      result.healthcheck = JSON.parse(exec) as string[];
    }
  }
  return result;
}

/**
 * The captures of a real Grist 1.7.17 (test/fixtures/grist), read as they are, so the double's
 * fidelity test compares with what Grist did and a new capture can make it fail.
 */
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const FIXTURES = new URL("../../fixtures/grist/", import.meta.url);

export interface CapturedPost {
  path: string;
  headers: Array<[string, string]>;
  raw_body: string;
}

/** A REST write and what followed it: the answer and the webhook POSTs a receiver got. */
export interface CapturedWrite {
  file: string;
  request: { method: string; path: string; body: unknown };
  response_status: number;
  response: unknown;
  request_sent_epoch_ms: number;
  webhook_posts: CapturedPost[];
}

export function readCapture<T>(file: string): T {
  return JSON.parse(readFileSync(new URL(file, FIXTURES), "utf8")) as T;
}

/** Every captured write (files with a request and its webhook posts), in the order Grist got them. */
export function capturedWrites(): CapturedWrite[] {
  return readdirSync(fileURLToPath(FIXTURES))
    .filter((file) => file.endsWith(".json"))
    .map((file) => ({ ...readCapture<Omit<CapturedWrite, "file">>(file), file }))
    .filter((capture) => capture.request?.method !== undefined && capture.webhook_posts)
    .sort((a, b) => a.request_sent_epoch_ms - b.request_sent_epoch_ms);
}

/** The receiver the captures were made with; the tests put their own in its place. */
export const CAPTURE_RECEIVER = "http://localhost:9911";

/**
 * `GET /sync` of the fake homeserver: tokens are positions in the one stream; an initial sync
 * (no `since`) gives each joined room its current state, an incremental one the new timeline
 * events, to-device messages and the users whose keys changed. Long-polls up to `timeout` ms.
 */
import type { ServerResponse } from "node:http";
import type { Caller, Reply } from "./fake-homeserver.ts";
import { defaultPushRules } from "./fake-homeserver-push-rules.ts";
import type { HomeserverState } from "./fake-homeserver-state.ts";

const MAX_WAIT_MS = 30_000;

function parseSince(raw: string | null): number {
  const match = /^s(\d+)$/.exec(raw ?? "");
  return match ? Number(match[1]) : -1;
}

export async function handleSync(
  state: HomeserverState,
  caller: Caller,
  query: URLSearchParams,
  response: ServerResponse,
): Promise<Reply> {
  const since = parseSince(query.get("since"));
  const timeoutMs = Math.min(Number(query.get("timeout") ?? 0) || 0, MAX_WAIT_MS);
  if (since >= 0 && timeoutMs > 0) {
    const closed = new AbortController();
    response.once("close", () => closed.abort());
    const deadline = Date.now() + timeoutMs;
    while (
      state.changesFor(caller.userId, caller.deviceId, since).length === 0 &&
      Date.now() < deadline &&
      !closed.signal.aborted
    ) {
      await state.waitForChange(deadline - Date.now(), closed.signal);
    }
  }
  const position = state.position;
  const join: Record<string, unknown> = {};
  const toDevice: unknown[] = [];
  const changed = new Set<string>();
  const accountData = new Set<string>();
  if (since < 0) {
    for (const roomId of state.roomsOf(caller.userId)) {
      join[roomId] = {
        state: { events: state.roomState(roomId) },
        timeline: { events: [], limited: false },
      };
    }
  } else {
    for (const item of state.changesFor(caller.userId, caller.deviceId, since)) {
      if (item.kind === "room") {
        const room = (join[item.roomId] ?? {
          state: { events: [] },
          timeline: { events: [], limited: false },
        }) as { timeline: { events: unknown[] } };
        room.timeline.events.push(item.event);
        join[item.roomId] = room;
      } else if (item.kind === "to-device") {
        toDevice.push(item.event);
      } else if (item.kind === "account-data") {
        accountData.add(item.type);
      } else {
        changed.add(item.userId);
      }
    }
  }
  return {
    status: 200,
    body: {
      next_batch: `s${position}`,
      rooms: { join, invite: {}, leave: {} },
      to_device: { events: toDevice },
      device_lists: { changed: [...changed], left: [] },
      device_one_time_keys_count: {
        signed_curve25519: state.oneTimeKeyCount(caller.userId, caller.deviceId),
      },
      device_unused_fallback_key_types: state.hasFallbackKey(caller.userId, caller.deviceId)
        ? ["signed_curve25519"]
        : [],
      account_data: {
        // Initial sync: everything stored; incremental: the latest content of what changed.
        events: [
          ...(since < 0 ? [{ type: "m.push_rules", content: defaultPushRules() }] : []),
          ...[...(state.accountData.get(caller.userId) ?? [])]
            .filter(([type]) => since < 0 || accountData.has(type))
            .map(([type, content]) => ({ type, content })),
        ],
      },
      presence: { events: [] },
    },
  };
}

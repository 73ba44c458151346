/** Polls `/api/status` for the "État du relais" panel; hidden unless the relay answers 200. */
import { parseRelayStatus } from "../core/parse.ts";
import type { RelayApi } from "../net/relay-api.ts";
import type { RelayStatusPanel } from "../ui/relay-status.ts";

const PERIOD_MS = 20_000;

export function startStatusPolling(
  api: RelayApi,
  panel: RelayStatusPanel,
): { refresh(): void; stop(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;

  async function poll() {
    clearTimeout(timer);
    try {
      const answer = await api.getJson("api/status");
      // 401/403: not an admin (or no token yet); 404: an older relay. Either way, no panel.
      panel.render(answer.status === 200 ? parseRelayStatus(answer.body) : null);
    } catch {
      // Relay unreachable: keep the last figures; the connection indicator already says it.
    }
    if (!stopped) timer = setTimeout(() => void poll(), PERIOD_MS);
  }

  void poll();
  return {
    refresh: () => void poll(),
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

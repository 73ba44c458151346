/**
 * Polls `/api/status` for the "État du relais" panel; hidden unless the relay answers 200. Only
 * pages whose role may read it ask (`mayRead`), and a refusal stops the polling: a viewer's
 * console should not fill with 403s every 20 s.
 */
import { parseRelayStatus } from "../core/parse.ts";
import type { RelayApi } from "../net/relay-api.ts";
import type { RelayStatusPanel } from "../ui/relay-status.ts";

const PERIOD_MS = 20_000;

export interface StatusPolling {
  refresh(): void;
  stop(): void;
}

export function startStatusPolling(
  api: RelayApi,
  panel: RelayStatusPanel,
  mayRead: () => Promise<boolean> = async () => true,
): StatusPolling {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  let refused = false;

  async function poll() {
    clearTimeout(timer);
    if (refused || !(await mayRead().catch(() => false))) {
      panel.render(null);
      return;
    }
    try {
      const answer = await api.getJson("api/status");
      // 401/403: not an admin (or no token yet); 404: an older relay. Either way, no panel.
      refused = answer.status === 401 || answer.status === 403;
      panel.render(answer.status === 200 ? parseRelayStatus(answer.body) : null);
    } catch {
      // Relay unreachable: keep the last figures; the connection indicator already says it.
    }
    if (!stopped && !refused) timer = setTimeout(() => void poll(), PERIOD_MS);
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

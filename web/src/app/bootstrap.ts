/** Start-up steps shared by both entry points. */
import { type AppConfig, DEFAULT_APP_CONFIG, parseAppConfig } from "../core/parse.ts";
import type { RelayApi } from "../net/relay-api.ts";

/** `/app-config.json` holds no secret; without it the page still works on defaults. */
export async function loadAppConfig(api: RelayApi): Promise<AppConfig> {
  try {
    const answer = await api.getJson("app-config.json");
    return answer.status === 200 ? parseAppConfig(answer.body) : { ...DEFAULT_APP_CONFIG };
  } catch {
    return { ...DEFAULT_APP_CONFIG };
  }
}

/** Asks a cheap authenticated endpoint whether the token is the problem. */
export async function probeAuth(api: RelayApi): Promise<"unauthorized" | "forbidden" | null> {
  const answer = await api.getJson("api/events?limit=1");
  if (answer.status === 401) return "unauthorized";
  if (answer.status === 403) return "forbidden";
  return null;
}

/** The root element the HTML shell provides. */
export function appRoot(): HTMLElement {
  const root = document.getElementById("app");
  if (!root) throw new Error("élément #app absent de la page");
  return root;
}

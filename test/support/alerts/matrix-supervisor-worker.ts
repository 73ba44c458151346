/** Worker side of startSupervisor: one supervisor client, driven by calls. */
import { serveRpc } from "../../../src/alerts/matrix/worker-rpc.ts";
import { type SupervisorClient, startSupervisorClient } from "./matrix-supervisor.ts";

let supervisor: SupervisorClient | null = null;

serveRpc({
  async start(options: Parameters<typeof startSupervisorClient>[0]) {
    supervisor = await startSupervisorClient(options);
    return null;
  },
  messages: async () => supervisor?.messages ?? [],
  async devicesOf(userId: string) {
    const crypto = supervisor?.client.getCrypto();
    const devices = (await crypto?.getUserDeviceInfo([userId], true))?.get(userId);
    return Object.fromEntries(
      [...(devices ?? new Map()).entries()].map(([id, device]) => [
        id,
        device.getIdentityKey() ?? "",
      ]),
    );
  },
  async stop() {
    supervisor?.stop();
    return null;
  },
});

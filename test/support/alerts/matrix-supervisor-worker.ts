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
  async crossSignedByOwner({ userId, deviceId }: { userId: string; deviceId: string }) {
    const crypto = supervisor?.client.getCrypto();
    // Downloads the user's keys if the supervisor never did; later changes come through /sync.
    await crypto?.getUserDeviceInfo([userId], true);
    const status = await crypto?.getDeviceVerificationStatus(userId, deviceId);
    return status?.signedByOwner ?? false;
  },
  createIdentityWithRecoveryKey: (password: string) => {
    if (!supervisor) throw new Error("not started");
    return supervisor.createIdentityWithRecoveryKey(password);
  },
  async stop() {
    supervisor?.stop();
    return null;
  },
});

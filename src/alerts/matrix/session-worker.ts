/** The worker side of MatrixSessionHost: one MatrixSession, driven by calls. */
import type { MatrixMessageContent } from "../message.ts";
import { MatrixSession, type MatrixSessionOptions } from "./session.ts";
import { serveRpc } from "./worker-rpc.ts";

let session: MatrixSession | null = null;

function current(): MatrixSession {
  if (!session) throw new Error("Matrix session not started");
  return session;
}

serveRpc({
  async start(options: Omit<MatrixSessionOptions, "fetch" | "onError">) {
    session = new MatrixSession(options);
    await session.start();
    return session.crossSigning;
  },
  isRoomEncrypted: (roomId: string) => current().isRoomEncrypted(roomId),
  send: ({
    roomId,
    txnId,
    content,
  }: {
    roomId: string;
    txnId: string;
    content: MatrixMessageContent;
  }) => current().send(roomId, txnId, content),
  async stop() {
    await session?.stop();
    session = null;
  },
});

/**
 * A tiny SMTP receiver (RFC 5321 subset: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT, no
 * authentication, no TLS) that keeps every message it accepts, so a test counts the e-mails
 * that really left n8n. `stop()` closes the port (the server is "down"), `start()` reopens it
 * on the same port.
 */
import { createServer, type Server, type Socket } from "node:net";

export interface ReceivedMail {
  from: string;
  to: string[];
  /** Headers and body as sent, dot-unstuffed. */
  data: string;
}

export interface FakeSmtp {
  readonly port: number;
  readonly mails: ReceivedMail[];
  start(): Promise<void>;
  stop(): Promise<void>;
  waitForMails(count: number, timeoutMs: number): Promise<void>;
}

/** A message bigger than this is refused: the test only ever sends short alerts. */
const MAX_MESSAGE_BYTES = 1024 * 1024;

function session(socket: Socket, mails: ReceivedMail[]): void {
  let buffer = "";
  let inData = false;
  let data: string[] = [];
  let dataBytes = 0;
  let from = "";
  let to: string[] = [];
  const reply = (line: string) => socket.write(`${line}\r\n`);
  reply("220 fake-smtp ESMTP prêt");
  socket.setEncoding("utf8");
  socket.on("error", () => socket.destroy());
  socket.on("data", (chunk: string) => {
    buffer += chunk;
    if (buffer.length > MAX_MESSAGE_BYTES * 2) {
      reply("552 message trop gros");
      socket.destroy();
      return;
    }
    for (let end = buffer.indexOf("\r\n"); end >= 0; end = buffer.indexOf("\r\n")) {
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (inData) {
        if (line === ".") {
          inData = false;
          mails.push({ from, to, data: data.join("\r\n") });
          data = [];
          dataBytes = 0;
          reply("250 OK message accepté");
        } else {
          dataBytes += line.length;
          if (dataBytes <= MAX_MESSAGE_BYTES)
            data.push(line.startsWith(".") ? line.slice(1) : line);
        }
        continue;
      }
      const verb = line.slice(0, 4).toUpperCase();
      if (verb === "EHLO") {
        reply("250-fake-smtp");
        reply("250 8BITMIME");
      } else if (verb === "HELO") reply("250 fake-smtp");
      else if (verb === "MAIL") {
        from = /<([^>]*)>/.exec(line)?.[1] ?? "";
        to = [];
        reply("250 OK");
      } else if (verb === "RCPT") {
        to.push(/<([^>]*)>/.exec(line)?.[1] ?? "");
        reply("250 OK");
      } else if (verb === "DATA") {
        inData = true;
        reply("354 fin par <CRLF>.<CRLF>");
      } else if (verb === "RSET" || verb === "NOOP") reply("250 OK");
      else if (verb === "QUIT") {
        reply("221 au revoir");
        socket.end();
      } else reply("502 commande non prise en charge");
    }
  });
}

export async function startFakeSmtp(port = 0): Promise<FakeSmtp> {
  const mails: ReceivedMail[] = [];
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  let boundPort = port;
  const smtp: FakeSmtp = {
    get port() {
      return boundPort;
    },
    mails,
    async start() {
      if (server) return;
      const next = createServer((socket) => {
        sockets.add(socket);
        socket.on("close", () => sockets.delete(socket));
        session(socket, mails);
      });
      await new Promise<void>((resolve, reject) => {
        next.once("error", reject);
        next.listen(boundPort, "127.0.0.1", () => resolve());
      });
      const address = next.address();
      if (address && typeof address === "object") boundPort = address.port;
      server = next;
    },
    async stop() {
      const current = server;
      server = null;
      if (!current) return;
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => current.close(() => resolve()));
    },
    async waitForMails(count, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (mails.length < count) {
        if (Date.now() > deadline) {
          throw new Error(`${mails.length} courriel(s) reçu(s), ${count} attendu(s)`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
  };
  await smtp.start();
  return smtp;
}

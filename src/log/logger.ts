/** JSON logs (pino) with every secret the relay handles redacted. */
import pino, { type Logger } from "pino";

/** Query parameters that carry credentials: masked in every logged URL. */
const SECRET_QUERY = /([?&](?:token|secret|auth|access_token|api_key)=)[^&#]*/gi;

export function maskUrl(url: string): string {
  return url.replace(SECRET_QUERY, "$1[masqué]");
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: "grist-realtime" },
      redact: {
        paths: [
          "req.headers.authorization",
          "req.headers.cookie",
          "*.authorization",
          "*.token",
          "*.secret",
          "*.apiKey",
          "*.accessToken",
          "config.WEBHOOK_SECRET",
          "config.AUTH_JWT_SECRET",
          "config.GRIST_API_KEY",
          "config.TCHAP_ACCESS_TOKEN",
          "config.REDIS_URL",
        ],
        censor: "[masqué]",
      },
      serializers: {
        req: (req: { method?: string; url?: string; ip?: string }) => ({
          method: req.method,
          url: maskUrl(req.url ?? ""),
          ip: req.ip,
        }),
        err: pino.stdSerializers.err,
      },
    },
    destination,
  );
}

export type { Logger };

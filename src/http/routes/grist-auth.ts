/**
 * `POST /auth/grist` `{"gristToken", "baseUrl"}` → `{"token", "expiresInSeconds"}`: the widget
 * trades the access token Grist gives it for a short-lived relay token (token-exchange.ts).
 */
import type { FastifyPluginAsync } from "fastify";
import { z } from "zod";
import { RelayError } from "../../errors.ts";
import { GristTokenExchange, type GristTokenExchangeOptions } from "../../grist/token-exchange.ts";

export type GristAuthOptions = GristTokenExchangeOptions;

const BodySchema = z.object({
  // Grist's tokens are JWTs of about 200 characters (fixture: 208); 4 KiB is plenty.
  gristToken: z.string().min(1).max(4096),
  baseUrl: z.string().min(1).max(2048),
});

export const gristAuthRoutes: FastifyPluginAsync<GristAuthOptions> = async (app, options) => {
  const exchange = new GristTokenExchange(options);

  app.post("/auth/grist", { bodyLimit: 16 * 1024 }, async (request, reply) => {
    const body = BodySchema.safeParse(request.body);
    if (!body.success) {
      throw new RelayError(
        "RELAY_ERR_BAD_PAYLOAD",
        'corps attendu : {"gristToken": "…", "baseUrl": "…"} (grist.getAccessToken())',
      );
    }
    const result = await exchange.exchange(body.data.gristToken, body.data.baseUrl);
    // A bearer credential: no cache may keep it.
    reply.header("Cache-Control", "no-store");
    return result;
  });
};

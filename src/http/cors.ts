/** CORS for dashboards served from another origin: only the origins listed in CORS_ORIGINS. */
import type { FastifyInstance } from "fastify";

export interface CorsPolicy {
  headersFor(origin: string | undefined): Record<string, string>;
}

export function createCorsPolicy(allowed: readonly string[]): CorsPolicy {
  const origins = new Set(allowed);
  return {
    headersFor(origin): Record<string, string> {
      if (!origin || !origins.has(origin)) return {};
      return {
        "Access-Control-Allow-Origin": origin,
        Vary: "Origin",
        "Access-Control-Allow-Credentials": "true",
      };
    },
  };
}

export function installCors(app: FastifyInstance, policy: CorsPolicy): void {
  app.addHook("onRequest", async (request, reply) => {
    const headers = policy.headersFor(request.headers.origin);
    for (const [name, value] of Object.entries(headers)) reply.header(name, value);
  });
  app.options("/*", async (request, reply) => {
    const headers = policy.headersFor(request.headers.origin);
    if (Object.keys(headers).length === 0) return reply.code(204).send();
    reply
      .header("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
      .header("Access-Control-Allow-Headers", "Authorization, Content-Type, Last-Event-ID")
      .header("Access-Control-Max-Age", "600")
      .code(204)
      .send();
  });
}

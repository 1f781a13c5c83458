// @edge-sessions/origin/hono: the middleware for Hono apps (on Workers, Bun, Deno or
// Node). It verifies the X-Session-Assertion the gatekeeper forwards, checks the route's
// requirements and sets the verified session as `c.get("edgeSession")`, or answers the
// refusal as JSON (`{ "error": code, "message": ... }`). It imports nothing from Hono:
// a middleware is a function of the context and `next`.

import { createSessionGuard } from "./guard.js";

/**
 * @param {object} options `verifier`, or `jwksUrl`, `issuer`, `audience` (and
 *   `clockTolerance`) to make one; `minAal`, `maxAge` (seconds since the last
 *   authentication), `claim` (`{ name, value }`, `{ name, test }`, or a list of them)
 */
export function edgeSession(options) {
  const guard = createSessionGuard(options);
  return async function edgeSessionMiddleware(c, next) {
    const { session, refusal } = await guard.verify(c.req.raw);
    if (!session) return c.json(refusal.body, refusal.status, { "Cache-Control": "no-store" });
    c.set("edgeSession", session);
    await next();
  };
}

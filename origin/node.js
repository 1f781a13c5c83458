// @edge-sessions/origin/node: the middleware for Node's own `http` servers, Express and
// anything else with `(req, res, next)`. It verifies the X-Session-Assertion the
// gatekeeper forwards, checks the route's requirements and puts the verified session on
// `req.edgeSession` (not `req.session`, which express-session owns), or answers the
// refusal as JSON (`{ "error": code, "message": ... }`) and never calls `next`.

import { createSessionGuard } from "./guard.js";

/**
 * @param {object} options `verifier`, or `jwksUrl`, `issuer`, `audience` (and
 *   `clockTolerance`) to make one; `minAal`, `maxAge` (seconds since the last
 *   authentication), `claim` (`{ name, value }`, `{ name, test }`, or a list of them)
 */
export function edgeSession(options) {
  const guard = createSessionGuard(options);
  return async function edgeSessionMiddleware(req, res, next) {
    const { session, refusal } = await guard.verify(req);
    if (session) {
      req.edgeSession = session;
      return next();
    }
    res.statusCode = refusal.status;
    res.setHeader("Content-Type", "application/json");
    res.setHeader("Cache-Control", "no-store");
    res.end(JSON.stringify(refusal.body));
  };
}

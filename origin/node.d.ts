import type { IncomingMessage, ServerResponse } from "node:http";
import type { EdgeSessionOptions, VerifiedSession } from "./index.js";

declare global {
  // Express's `req` gains the property (a no-op without @types/express).
  namespace Express {
    interface Request {
      /** The session the gatekeeper vouched for, set by `edgeSession()`. */
      edgeSession?: VerifiedSession;
    }
  }
}

/** Node's request, with the verified session once the middleware let it through. */
export type EdgeSessionRequest = IncomingMessage & { edgeSession?: VerifiedSession };

/**
 * `(req, res, next)`: on success sets `req.edgeSession` and calls `next()`; otherwise
 * answers the refusal (a `SessionRefusalBody` as JSON) and does not call `next`.
 */
export type EdgeSessionMiddleware = (
  req: EdgeSessionRequest,
  res: ServerResponse,
  next: (error?: unknown) => void,
) => Promise<void>;

/** The middleware for Express, Connect and Node's own `http` servers. */
export declare function edgeSession(options: EdgeSessionOptions): EdgeSessionMiddleware;

import type { MiddlewareHandler } from "hono";
import type { EdgeSessionOptions, VerifiedSession } from "./index.js";

/** What the middleware sets: `c.get("edgeSession")`. */
export type EdgeSessionVariables = { edgeSession: VerifiedSession };

/**
 * The middleware for Hono: on success sets `c.var.edgeSession` and runs the next
 * handler; otherwise answers the refusal (a `SessionRefusalBody` as JSON).
 */
export declare function edgeSession(
  options: EdgeSessionOptions,
): MiddlewareHandler<{ Variables: EdgeSessionVariables }>;

// The origin SDK's declarations (origin/index.d.ts), compiled with the client's.
/// <reference types="node" />

import type { IncomingMessage } from "node:http";
import {
  createAdminClient,
  createAssertionVerifier,
  AdminApiError,
  AssertionError,
  type AdminErrorCode,
  type FleetPage,
  type VerifiedSession,
} from "edge-sessions/origin";

/** Node's own request (and so Express's) is something verify() reads. */
async function nodeUsage(req: IncomingMessage): Promise<string> {
  const verifier = createAssertionVerifier({ jwksUrl: "https://a.example/v1/jwks.json", issuer: "i", audience: "a" });
  return (await verifier.verify(req)).accountId;
}
void nodeUsage;

async function originUsage(request: Request): Promise<void> {
  const verifier = createAssertionVerifier({
    jwksUrl: "https://app.example.com/v1/jwks.json",
    issuer: "https://app.example.com",
    audience: "https://origin.example.com",
  });
  try {
    const session: VerifiedSession = await verifier.verify(request);
    const role: unknown = session.claims.role;
    const when: Date = session.authTime;
    void [role, when];
  } catch (e) {
    if (e instanceof AssertionError && e.code === "expired") return;
  }
  const admin = createAdminClient({ baseUrl: "https://app.example.com", adminKey: "k".repeat(40) });
  const created = await admin.createSession("alice", { aal: 2, amr: ["pwd"], claims: { role: "editor" } });
  const token: string = created.token;
  const count: number = await admin.updateClaims("alice", null, { role: "viewer" });
  const one = await admin.updateClaims("alice", created.sessionId, { role: "viewer" });
  const aal: number = one.aal;
  const label: string | null = one.label;
  const listed = await admin.listSessions("alice", { limit: 10 });
  const lastSeen: string = listed[0].lastSeenAt;
  const page: FleetPage = await admin.listAllSessions({ limit: 100 });
  const next = page.cursor ? await admin.listAllSessions({ cursor: page.cursor }) : undefined;
  const owner: string | undefined = next?.sessions[0]?.accountId;
  void owner;
  try {
    await admin.revokeAll("alice");
  } catch (e) {
    if (e instanceof AdminApiError) {
      const code: AdminErrorCode = e.code;
      if (code === "admin_disabled" || code === "unexpected_response") void code;
    }
  }
  // @ts-expect-error every field the SDK returns is camelCase: there is no session_id
  void created.session_id;
  // @ts-expect-error every field the SDK returns is camelCase: there is no last_seen_at
  void listed[0].last_seen_at;
  const again = await admin.reauthenticate("alice", created.sessionId, { aal: 2, amr: ["otp"] });
  const newToken: string = again.token;
  const cookie: string | null = again.setCookie;
  void [token, count, aal, label, lastSeen, newToken, cookie];

  // @ts-expect-error issuer and audience are required
  createAssertionVerifier({ jwksUrl: "https://app.example.com/v1/jwks.json" });
  createAssertionVerifier({
    jwksUrl: "https://app.example.com/v1/jwks.json",
    issuer: "https://app.example.com",
    audience: "https://api.example.com",
    kind: "access_token",
  });
  createAssertionVerifier({
    jwksUrl: "https://app.example.com/v1/jwks.json",
    issuer: "https://app.example.com",
    audience: "https://api.example.com",
    // @ts-expect-error the kinds are gateway and access_token
    kind: "JWT",
  });
  // @ts-expect-error there is no assurance level 5
  await admin.createSession("alice", { aal: 5 });
  // @ts-expect-error revokeSession resolves to a boolean
  const wrong: number = await admin.revokeSession("alice", created.sessionId);
  void wrong;
  // @ts-expect-error a reauthentication evicts nobody and has no evicted list
  void again.evicted;
}

void originUsage;

// The middlewares, typed against the real Express and Hono declarations.
import express from "express";
import { Hono } from "hono";
import { createServer } from "node:http";
import { edgeSession, type EdgeSessionRequest } from "edge-sessions/origin/node";
import { edgeSession as honoEdgeSession, type EdgeSessionVariables } from "edge-sessions/origin/hono";

function middlewareUsage(): void {
  const options = { jwksUrl: "https://a.example/v1/jwks.json", issuer: "https://a.example", audience: "o" };
  const app = express();
  app.get("/admin", edgeSession({ ...options, minAal: 2, claim: { name: "role", value: "admin" } }), (req, res) => {
    const id: string | undefined = req.edgeSession?.accountId;
    res.json({ id });
  });
  const gate = edgeSession({ ...options, maxAge: 300 });
  createServer((req: EdgeSessionRequest, res) => gate(req, res, () => res.end(req.edgeSession?.sessionId)));

  const hono = new Hono<{ Variables: EdgeSessionVariables }>();
  hono.use("/api/*", honoEdgeSession({ ...options, claim: { name: "teams", test: (v) => Array.isArray(v) } }));
  hono.get("/api/me", (c) => c.json({ id: c.get("edgeSession").accountId, aal: c.var.edgeSession.aal }));
  const typed = new Hono().get("/x", honoEdgeSession(options), (c) => c.text(c.get("edgeSession").sessionId));
  void typed;

  // @ts-expect-error there is no assurance level 4
  edgeSession({ ...options, minAal: 4 });
  // @ts-expect-error a claim needs a name
  honoEdgeSession({ ...options, claim: { value: "admin" } });
  // @ts-expect-error a verifier, or jwksUrl, issuer and audience
  edgeSession({ maxAge: 60 });
  // @ts-expect-error the session is not a string
  hono.get("/bad", (c) => c.text(c.get("edgeSession")));
}
void middlewareUsage;

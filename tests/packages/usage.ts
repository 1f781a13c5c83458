// A user's code against the two packages as installed from their tarballs (not the
// repository's files): tests/e2e/packages.test.mjs copies it into a scratch project,
// compiles it under `strict` with the repository's TypeScript and runs the output
// against the worker. Every call here is one a README shows.

import { createSessionClient, SessionApiError, type Session } from "@edge-sessions/client";
import {
  createAdminClient,
  createAssertionVerifier,
  type CreatedSession,
  type VerifiedSession,
} from "@edge-sessions/origin";

export interface Config {
  baseUrl: string;
  adminKey: string;
  issuer: string;
  audience: string;
}

export async function run({ baseUrl, adminKey, issuer, audience }: Config) {
  // The origin's login handler opens a session.
  const admin = createAdminClient({ baseUrl, adminKey });
  const created: CreatedSession = await admin.createSession("pkg-user", {
    claims: { plan: "pro" },
    aal: 2,
    amr: ["pwd", "otp"],
  });

  // The page (here with a bearer token, as a native app would) reads it and asks for a token.
  const client = createSessionClient({ baseUrl, token: created.token });
  const me: Session = await client.validate();
  const access = await client.token({ audience });

  // The page's own API verifies that token.
  const api = createAssertionVerifier({ jwksUrl: `${baseUrl}/v1/jwks.json`, issuer, audience, kind: "access_token" });
  const verified: VerifiedSession = await api.verify(access.token);

  let refusal: { status: number; code: string; failed?: string[] } | undefined;
  try {
    await client.validate({ minAal: 3 });
  } catch (e) {
    if (!(e instanceof SessionApiError)) throw e;
    refusal = { status: e.status, code: e.code, failed: e.failed };
  }

  const fleet = await admin.listAllSessions({ limit: 10 });
  const revoked: boolean = await admin.revokeSession("pkg-user", created.sessionId);
  const afterRevoke = await client.validate({ strong: true }).then(
    () => "still valid",
    (e: unknown) => (e instanceof SessionApiError ? e.code : String(e)),
  );

  return {
    sessionId: created.sessionId,
    validated: { accountId: me.account_id, sessionId: me.session_id, claims: me.claims, aal: me.aal },
    verified: { accountId: verified.accountId, sessionId: verified.sessionId, claims: verified.claims },
    refusal,
    fleet: fleet.sessions.map((s) => s.sessionId),
    revoked,
    afterRevoke,
  };
}

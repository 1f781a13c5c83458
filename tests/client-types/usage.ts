// Compiled with `tsc --noEmit` by tests/e2e/client-types.test.mjs: the declarations in
// client/index.d.ts must describe the client precisely. Every `@ts-expect-error` below
// fails the build if the types were loose enough to accept the mistake.

import {
  createSessionClient,
  SessionApiError,
  type AccessToken,
  type FreshnessRequirement,
  type ListedSession,
  type Session,
} from "edge-sessions/client";

async function usage(): Promise<void> {
  const client = createSessionClient({ baseUrl: "https://auth.example.com" });
  const me: Session = await client.validate({ strong: true });
  const deadline: string = me.expires_at;
  const tenant: unknown = me.claims.tenant;
  const sessions: ListedSession[] = await client.listSessions();
  const current: boolean = sessions[0].current;
  const label: string | null = sessions[0].label;
  const revoked: number = await client.logoutOthers();
  await client.revokeSession(sessions[0].session_id);
  const nothing: void = await client.logout();
  try {
    await client.refresh();
  } catch (e) {
    if (e instanceof SessionApiError) {
      const status: number = e.status;
      const code: string = e.code;
      const failed: FreshnessRequirement[] | undefined = e.failed;
      const lastLogin: string | undefined = e.authenticated_at;
      const waitSecs: number | undefined = e.retryAfter;
      const message: string | undefined = e.body?.message;
      void [status, code, failed, lastLogin, waitSecs, message];
      // @ts-expect-error retryAfter is a number of seconds, not a date
      const when: Date | undefined = e.retryAfter;
      void when;
    }
  }
  const access: AccessToken = await client.token({ audience: "https://api.example.com" });
  const bearer: string = access.token;
  const until: string = access.expires_at;
  void [bearer, until];
  // @ts-expect-error the audience is required: the worker has no default
  await client.token();
  // @ts-expect-error the audience is required: the worker has no default
  await client.token({});
  const sensitive: Session = await client.validate({ maxAge: 300, minAal: 2 });
  const level: number = sensitive.aal;
  const rotated = await client.rotate();
  const maybeToken: string | undefined = rotated.token;
  void [deadline, tenant, current, label, revoked, nothing, level, maybeToken];
  // @ts-expect-error a claim's type is the origin's business: check it before use
  const role: string = me.claims.role;
  void role;
  // @ts-expect-error maxAge is a number of seconds
  await client.validate({ maxAge: "5m" });
  // @ts-expect-error there is no assurance level 4
  await client.validate({ minAal: 4 });

  createSessionClient();
  // @ts-expect-error baseUrl is a string
  createSessionClient({ baseUrl: new URL("https://auth.example.com") });
  // @ts-expect-error session ids are strings
  await client.revokeSession(42);
  // @ts-expect-error there is no such field on a session
  void me.token;
  // @ts-expect-error logoutEverywhere resolves to a count, not a session
  const wrong: Session = await client.logoutEverywhere();
  void wrong;
}

void usage;

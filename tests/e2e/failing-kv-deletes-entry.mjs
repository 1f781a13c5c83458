// The real build with one fault injected at the platform boundary: every KV delete
// fails, as during a KV outage. Used to observe the revocation outbox.

import { wrapBinding, wrappedBuild } from "./wrapped-build.mjs";

const failDelete = () => async () => {
  throw new Error("simulated KV outage: delete failed");
};

const build = wrappedBuild({ SESSIONS: (kv) => wrapBinding(kv, { delete: failDelete }) });

export const AccountSessions = build.AccountSessions;
export default build.Worker;

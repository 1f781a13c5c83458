// The real build, with KV puts that hang after landing for two kinds of record: a new
// session labelled "hang" (a create cut off before its index row is confirmed) and a
// touched session of account "touch-ghost" (a touch cut off before its index update).
import { hangingPutBuild } from "./fault-entries.mjs";

const build = hangingPutBuild(
  (r) =>
    (r.meta?.label === "hang" && r.last_seen_at === r.created_at) ||
    (r.account_id === "touch-ghost" && r.last_seen_at > r.created_at),
);
export const AccountSessions = build.AccountSessions;
export default build.Worker;

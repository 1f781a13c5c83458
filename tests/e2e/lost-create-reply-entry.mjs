// The real build, with the reply to the first create for account "retried" lost.
import { lostCreateReplyBuild } from "./fault-entries.mjs";

const build = lostCreateReplyBuild("retried");
export const AccountSessions = build.AccountSessions;
export default build.Worker;

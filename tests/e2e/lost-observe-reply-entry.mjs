// The real build, with every reply to an `observe` command (theft signals) lost.
import { lostObserveReplyBuild } from "./fault-entries.mjs";

const build = lostObserveReplyBuild();
export const AccountSessions = build.AccountSessions;
export default build.Worker;

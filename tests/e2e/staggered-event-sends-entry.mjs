// The real build with the EVENTS queue's sends 1, 2 and 4 failing: failures staggered
// in time, so the outbox holds events whose retries fall due at different moments.

import { failingEventSendsBuild } from "./fault-entries.mjs";

const build = failingEventSendsBuild((n) => n === 1 || n === 2 || n === 4);

export const AccountSessions = build.AccountSessions;
export default build.Worker;

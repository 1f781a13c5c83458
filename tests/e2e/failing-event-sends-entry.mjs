// The real build with the EVENTS queue's first two sends failing, as during a Queues
// outage. Used to observe the event outbox: nothing is lost, the alarm sends later.

import { failingEventSendsBuild } from "./fault-entries.mjs";

const build = failingEventSendsBuild((n) => n <= 2);

export const AccountSessions = build.AccountSessions;
export default build.Worker;

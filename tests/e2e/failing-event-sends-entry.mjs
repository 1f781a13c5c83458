// The real build with the EVENTS queue's first two sends failing, as during a Queues
// outage. Used to observe the event outbox: nothing is lost, the alarm sends later.

import { wrapBinding, wrappedBuild } from "./wrapped-build.mjs";

let failures = 2;
const failingSend =
  (real) =>
  async (...args) => {
    if (failures > 0) {
      failures--;
      throw new Error("simulated Queues outage: send failed");
    }
    return real(...args);
  };

const build = wrappedBuild({ EVENTS: (queue) => wrapBinding(queue, { sendBatch: failingSend, send: failingSend }) });

export const AccountSessions = build.AccountSessions;
export default build.Worker;

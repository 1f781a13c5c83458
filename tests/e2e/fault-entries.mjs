// Builds of the real worker with one fault injected at a platform binding, for the
// partial-failure tests. Each is selected by the entry file that re-exports it
// (Miniflare loads one script per worker). The worker itself has no test switch.

import { wrapBinding, wrappedBuild } from "./wrapped-build.mjs";

const never = () => new Promise(() => {});

/**
 * The EVENTS queue's sends, numbered from 1, throw when `fails(n)` is true, as during a
 * Queues outage; the others reach the real queue. Used to observe the event outbox.
 */
export function failingEventSendsBuild(fails) {
  let sends = 0;
  const failing =
    (real) =>
    async (...args) => {
      sends++;
      if (fails(sends)) throw new Error("simulated Queues outage: send failed");
      return real(...args);
    };
  return wrappedBuild({ EVENTS: (queue) => wrapBinding(queue, { sendBatch: failing, send: failing }) });
}

/**
 * KV puts of records matching `match(record)` land, and then never return: the
 * Durable Object is cut off between its KV put and the index write that follows, as by
 * a reset at that moment (the test then restarts the runtime on the same storage).
 */
export function hangingPutBuild(match) {
  return wrappedBuild({
    SESSIONS: (kv) =>
      wrapBinding(kv, {
        put: (real) => async (key, value, options) => {
          const record = JSON.parse(value);
          await real(key, value, options);
          if (match(record)) await never();
        },
      }),
  });
}

/**
 * Account commands for which `loses(command)` is true run in their Durable Object, but
 * the reply is lost on the way back: the stub's fetch throws after the object answered.
 */
function lostReplyBuild(loses, what) {
  return wrappedBuild({
    ACCOUNTS: (namespace) =>
      wrapBinding(namespace, {
        get:
          (real) =>
          (...args) =>
            wrapBinding(real(...args), {
              fetch:
                (realFetch) =>
                async (request, ...rest) => {
                  const command = await request.clone().json();
                  const response = await realFetch(request, ...rest);
                  if (loses(command)) {
                    await response.arrayBuffer();
                    throw new Error(`simulated network failure: ${what} reply lost`);
                  }
                  return response;
                },
            }),
      }),
  });
}

/** The first create command for `accountId` runs in its Durable Object; its reply is lost. */
export function lostCreateReplyBuild(accountId) {
  let lost = false;
  const loses = (command) => {
    if (lost || command.op !== "create" || command.record.account_id !== accountId) return false;
    lost = true;
    return true;
  };
  return lostReplyBuild(loses, "create");
}

/**
 * Every `observe` command (theft signals) runs in its Durable Object, and its reply is
 * lost on the way back: the edge never learns what the object decided.
 */
export function lostObserveReplyBuild() {
  return lostReplyBuild((command) => command.op === "observe", "observe");
}

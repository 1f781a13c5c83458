// Waiting for what the worker does after it has answered (KV writes, alarms, queue deliveries).

import assert from "node:assert/strict";
import { sleep } from "../harness.mjs";

/** Polls `check` every 100 ms until it returns something truthy, and returns that; fails after `ms`. */
export async function until(what, check, ms = 5000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

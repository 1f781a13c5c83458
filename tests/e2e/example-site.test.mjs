// The example site's login with long and unusual input: the device metadata it sends is
// trimmed by UTF-8 bytes and cleaned of characters the worker refuses, so a login never
// fails because of a user agent or a device name.

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, ADMIN_KEY } from "./harness.mjs";
import { startSite } from "../../examples/site/server.mjs";
import { fitMetadata, LABEL_MAX_BYTES, USER_AGENT_MAX_BYTES } from "../../examples/site/device-info.mjs";

const bytes = (s) => new TextEncoder().encode(s).length;

test("fitMetadata trims by bytes on character boundaries and drops invisible characters", () => {
  assert.equal(fitMetadata("plain", 128), "plain");
  assert.equal(fitMetadata("a\u0000b\u202Ec\u200Bd\n", 128), "abcd");
  const emoji = "😀".repeat(300); // 4 bytes each
  const cut = fitMetadata(emoji, USER_AGENT_MAX_BYTES);
  assert.equal(bytes(cut), 512);
  assert.equal(cut, "😀".repeat(128));
  assert.equal(bytes(fitMetadata("é".repeat(100), LABEL_MAX_BYTES)), 128);
  assert.equal(fitMetadata("x" + "é".repeat(100), LABEL_MAX_BYTES).length, 64, "never half a character");
  assert.equal(fitMetadata(undefined, 10), "");
});

describe("the example site's login", () => {
  let worker, site;
  before(async () => {
    worker = await startWorker();
    site = await startSite({ workerUrl: worker.url.origin, adminKey: ADMIN_KEY });
  });
  after(async () => {
    await site?.close();
    await worker?.dispose();
  });

  test("a long emoji device name and a long non-ASCII user agent still log in", async () => {
    // The form stays under the site's 4 KiB body limit; both values are far over the
    // worker's byte limits (128 and 512).
    const form = new URLSearchParams({ username: "long-input", device: "📱".repeat(150) + "\u202E" + "x".repeat(500) });
    const res = await fetch(`${site.url}/login`, {
      method: "POST",
      headers: {
        "Content-Type": "application/x-www-form-urlencoded",
        "User-Agent": "Agent/1.0 " + "ÿ".repeat(400),
        Origin: site.url,
      },
      body: form,
      redirect: "manual",
    });
    assert.equal(res.status, 303, await res.text());
    const { sessions } = await (
      await worker.fetch("/v1/admin/accounts/long-input/sessions", {
        headers: { Authorization: `Bearer ${ADMIN_KEY}` },
      })
    ).json();
    assert.equal(sessions.length, 1);
    assert.ok(bytes(sessions[0].label) <= LABEL_MAX_BYTES && sessions[0].label.startsWith("📱"));
    assert.ok(!sessions[0].label.includes("\u202E"));
    assert.ok(bytes(sessions[0].user_agent) <= USER_AGENT_MAX_BYTES && sessions[0].user_agent.startsWith("Agent/1.0"));
  });
});

// Rotating the admin key without downtime: ADMIN_KEY_PREVIOUS is accepted beside
// ADMIN_KEY while it is set, refused once it is removed, and never opens the admin API
// on its own. The worker is restarted over the same stored state between the steps,
// as a new deployment with changed secrets would be.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { startWorker } from "./harness.mjs";

const OLD_KEY = "old-admin-key-0123456789abcdef-0123456789";
const NEW_KEY = "new-admin-key-0123456789abcdef-0123456789";

/** POST a session for `account` with `key`; returns { status, body }. */
async function createWith(worker, key, account) {
  const res = await worker.fetch(`/v1/admin/accounts/${account}/sessions`, {
    method: "POST",
    headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
    body: "{}",
  });
  return { status: res.status, body: await res.json() };
}

/** The account's sessions as the admin listing gives them, with `key`. */
async function listWith(worker, key, account) {
  const res = await worker.fetch(`/v1/admin/accounts/${account}/sessions`, {
    headers: { Authorization: `Bearer ${key}` },
  });
  return { status: res.status, body: await res.json() };
}

test("both keys work while ADMIN_KEY_PREVIOUS is set; after its removal only the new one does", async () => {
  const dir = mkdtempSync(join(tmpdir(), "edge-sessions-admin-key-"));
  try {
    // Before: only the old key.
    let worker = await startWorker({ adminKey: OLD_KEY, persistTo: dir });
    const before = await createWith(worker, OLD_KEY, "rotating");
    assert.equal(before.status, 201, JSON.stringify(before.body));
    assert.equal((await createWith(worker, NEW_KEY, "rotating")).body.error, "invalid_admin_key");
    await worker.dispose();

    // During: the new key is current, the old one is the previous; both are accepted.
    worker = await startWorker({ adminKey: NEW_KEY, vars: { ADMIN_KEY_PREVIOUS: OLD_KEY }, persistTo: dir });
    const viaOld = await createWith(worker, OLD_KEY, "rotating");
    const viaNew = await createWith(worker, NEW_KEY, "rotating");
    assert.equal(viaOld.status, 201, JSON.stringify(viaOld.body));
    assert.equal(viaNew.status, 201, JSON.stringify(viaNew.body));
    const other = await createWith(worker, "some-other-key-0123456789abcdef-012345", "rotating");
    assert.equal(other.status, 401);
    assert.equal(other.body.error, "invalid_admin_key");
    const listed = await listWith(worker, OLD_KEY, "rotating");
    assert.deepEqual(
      listed.body.sessions.map((s) => s.session_id).sort(),
      [before.body.session_id, viaOld.body.session_id, viaNew.body.session_id].sort(),
    );
    const ready = await (await worker.fetch("/v1/health/ready")).json();
    assert.deepEqual(
      ready.checks.filter((c) => c.name.startsWith("ADMIN_KEY")).map((c) => [c.name, c.status]),
      [
        ["ADMIN_KEY", "ok"],
        ["ADMIN_KEY_PREVIOUS", "ok"],
      ],
    );
    await worker.dispose();

    // After: the previous key is removed; the old key is refused, the new one works, and
    // the sessions created with either key are still there.
    worker = await startWorker({ adminKey: NEW_KEY, persistTo: dir });
    const refused = await listWith(worker, OLD_KEY, "rotating");
    assert.equal(refused.status, 401);
    assert.equal(refused.body.error, "invalid_admin_key");
    const after = await listWith(worker, NEW_KEY, "rotating");
    assert.equal(after.status, 200);
    assert.equal(after.body.sessions.length, 3);
    assert.equal((await worker.validate(viaOld.body.token)).status, 200);
    await worker.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("ADMIN_KEY_PREVIOUS alone does not open the admin API", async () => {
  const worker = await startWorker({ adminKey: null, vars: { ADMIN_KEY_PREVIOUS: OLD_KEY } });
  try {
    const res = await createWith(worker, OLD_KEY, "closed");
    assert.equal(res.status, 403);
    assert.equal(res.body.error, "admin_disabled");
    assert.deepEqual(await worker.dumpKv(), []);
    const ready = await worker.fetch("/v1/health/ready");
    assert.equal(ready.status, 503);
    const body = await ready.json();
    assert.equal(body.checks.find((c) => c.name === "ADMIN_KEY").status, "failed");
    assert.ok(!JSON.stringify(body).includes(OLD_KEY));
  } finally {
    await worker.dispose();
  }
});

test("a short ADMIN_KEY_PREVIOUS is a configuration error naming it, not a silent skip", async () => {
  const worker = await startWorker({ adminKey: NEW_KEY, vars: { ADMIN_KEY_PREVIOUS: "too-short" } });
  try {
    const res = await createWith(worker, NEW_KEY, "short");
    assert.equal(res.status, 500);
    assert.equal(res.body.error, "invalid_config");
    assert.match(res.body.message, /ADMIN_KEY_PREVIOUS/);
    assert.ok(!res.body.message.includes("too-short"));
  } finally {
    await worker.dispose();
  }
});

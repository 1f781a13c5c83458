// Deployability, checked offline: `wrangler deploy --dry-run` bundles exactly what a
// deploy would upload, from wrangler.toml, without contacting Cloudflare. The bundle's
// compressed size is printed against the platform's limits.

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const FREE_LIMIT = 3 * 1024 * 1024; // compressed, Workers Free
const PAID_LIMIT = 10 * 1024 * 1024; // compressed, Workers Paid

test("wrangler deploy --dry-run bundles the worker from wrangler.toml, within the size limits", (t) => {
  const outdir = mkdtempSync(join(tmpdir(), "edge-sessions-deploy-"));
  // The same configuration without its [build] step: the test suite has just built
  // build/, and building again would only cost time.
  const config = join(root, ".wrangler-dry-run.toml");
  writeFileSync(config, readFileSync(join(root, "wrangler.toml"), "utf8").replace(/\[build\]\ncommand = .*\n/, ""));
  try {
    const output = execFileSync(
      join(root, "node_modules/.bin/wrangler"),
      ["deploy", "--dry-run", "--outdir", outdir, "--config", config],
      {
        cwd: root,
        env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" },
        encoding: "utf8",
        timeout: 120_000,
      },
    );
    assert.match(output, /--dry-run: exiting now/);
    for (const binding of ["SESSIONS", "ACCOUNTS", "EVENTS", "SESSION_LIMITER"])
      assert.match(output, new RegExp(binding), binding);
    const files = readdirSync(outdir, { recursive: true }).filter((f) => statSync(join(outdir, f)).isFile());
    assert.ok(
      files.some((f) => f.endsWith(".js")),
      files.join(", "),
    );
    assert.ok(
      files.some((f) => f.endsWith(".wasm")),
      files.join(", "),
    );
    const bytes = files.filter((f) => /\.(js|mjs|wasm)$/.test(f)).map((f) => readFileSync(join(outdir, f)));
    const raw = bytes.reduce((n, b) => n + b.length, 0);
    const gzip = bytes.reduce((n, b) => n + gzipSync(b, { level: 9 }).length, 0);
    t.diagnostic(
      `bundle: ${(raw / 1024).toFixed(0)} KiB raw, ${(gzip / 1024).toFixed(0)} KiB gzip; limits ${FREE_LIMIT / 1048576} MiB (Free), ${PAID_LIMIT / 1048576} MiB (Paid) compressed`,
    );
    assert.ok(gzip < FREE_LIMIT, `the bundle (${gzip} bytes gzip) fits the Free plan's limit`);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
    rmSync(config, { force: true });
  }
});

// Deployability, checked offline: `wrangler deploy --dry-run` bundles exactly what a
// deploy would upload, from wrangler.toml, without contacting Cloudflare. The bundle's
// compressed size is printed against the platform's limits. A wrangler.toml that would
// deploy a secret as a plain-text [vars] entry is refused before wrangler runs.

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { SECRETS, refuseSecretsInVars } from "../../scripts/secrets.mjs";

const root = fileURLToPath(new URL("../../", import.meta.url));
const FREE_LIMIT = 3 * 1024 * 1024; // compressed, Workers Free
const PAID_LIMIT = 10 * 1024 * 1024; // compressed, Workers Paid
const wranglerToml = readFileSync(join(root, "wrangler.toml"), "utf8");

/** `wrangler deploy --dry-run` of this configuration text; returns wrangler's output and the bundle's files. */
function dryRun(configText, outdir) {
  refuseSecretsInVars(configText);
  // The same configuration without its [build] step: the test suite has just built
  // build/, and building again would only cost time.
  const config = join(root, ".wrangler-dry-run.toml");
  writeFileSync(config, configText.replace(/\[build\]\ncommand = .*\n/, ""));
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
    const files = readdirSync(outdir, { recursive: true }).filter((f) => statSync(join(outdir, f)).isFile());
    return { output, files };
  } finally {
    rmSync(config, { force: true });
  }
}

test("wrangler deploy --dry-run bundles the worker from wrangler.toml, within the size limits", (t) => {
  const outdir = mkdtempSync(join(tmpdir(), "edge-sessions-deploy-"));
  try {
    const { output, files } = dryRun(wranglerToml, outdir);
    assert.match(output, /--dry-run: exiting now/);
    for (const binding of ["SESSIONS", "ACCOUNTS", "EVENTS", "SESSION_LIMITER"])
      assert.match(output, new RegExp(binding), binding);
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
  }
});

test("the dry run refuses a wrangler.toml whose [vars] (or an environment's) names a secret, before wrangler runs", () => {
  const withSecret = wranglerToml.replace("[vars]\n", '[vars]\nSIGNING_KEY = "{\\"kty\\":\\"OKP\\"}"\n');
  const inEnvironment = `${wranglerToml}\n[env.production.vars]\nADMIN_KEY = "0123456789abcdef0123456789abcdef"\n`;
  for (const [configText, name] of [
    [withSecret, "SIGNING_KEY"],
    [inEnvironment, "ADMIN_KEY"],
  ]) {
    const outdir = mkdtempSync(join(tmpdir(), "edge-sessions-deploy-"));
    try {
      assert.throws(
        () => dryRun(configText, outdir),
        (e) =>
          new RegExp(`${name} in \\[(env\\.production\\.)?vars\\]`).test(e.message) &&
          /wrangler secret put/.test(e.message),
        name,
      );
      assert.deepEqual(readdirSync(outdir), [], "nothing was bundled");
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  }
});

test("the list of secrets (scripts/secrets.mjs) has every secret docs/configuration.md names", () => {
  const doc = readFileSync(join(root, "docs/configuration.md"), "utf8");
  const documented = [...doc.matchAll(/^\| `([A-Z0-9_]+)` \| secret \|/gm)].map((m) => m[1]);
  assert.ok(documented.length >= 4, documented.join(", "));
  assert.deepEqual(
    documented.filter((name) => !SECRETS.includes(name)),
    [],
    "documented secrets missing from scripts/secrets.mjs",
  );
  for (const name of [
    "ADMIN_KEY",
    "SIGNING_KEY",
    "SIGNING_KEY_PREVIOUS",
    "SIGNING_KEY_NEXT",
    "WEBHOOK_SECRET",
    "WEBHOOK_SECRET_PREVIOUS",
    "DEVICE_BINDING_SECRET",
  ]) {
    assert.ok(SECRETS.includes(name), name);
    assert.throws(
      () => refuseSecretsInVars(wranglerToml.replace("[vars]\n", `[vars]\n${name} = "x"\n`)),
      new RegExp(`${name} in \\[vars\\]`),
    );
  }
});

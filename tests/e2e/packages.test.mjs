// The two published packages as a user gets them: `npm run pack`'s tarballs, installed
// into a scratch project in the system's temp directory (outside the repository, so
// nothing resolves from its node_modules), a usage file type-checked under `strict` with
// the repository's TypeScript, and its compiled output run against the worker in workerd.
//
// Offline: `npm install --offline` never reaches a registry. `jose`, the origin
// package's one dependency, comes from the repository's own node_modules, packed: npm's
// cache after `npm ci` holds tarballs but not the package documents an offline install
// needs to resolve a range such as `^6.2.17`.

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { exportJWK, generateKeyPair } from "jose";
import { packAll } from "../../scripts/pack.mjs";
import { startWorker, ADMIN_KEY } from "./harness.mjs";

const root = fileURLToPath(new URL("../../", import.meta.url));
const readJson = (path) => JSON.parse(readFileSync(path, "utf8"));
const ISSUER = "https://sessions.example";
const AUDIENCE = "https://api.example.com";

/** The files of a tarball, without npm's `package/` prefix. */
const tarFiles = (tarball) =>
  execFileSync("tar", ["-tzf", tarball], { encoding: "utf8" })
    .split("\n")
    .filter(Boolean)
    .map((f) => f.replace(/^package\//, ""))
    .sort();

describe("the packages, installed from their tarballs", () => {
  let scratch, packed, worker;
  before(async () => {
    scratch = mkdtempSync(join(tmpdir(), "edge-sessions-packages-"));
    const tarballs = join(scratch, "tarballs");
    mkdirSync(tarballs);
    packed = Object.fromEntries(packAll(tarballs).map((p) => [p.name, p]));
    const [jose] = JSON.parse(
      execFileSync("npm", ["pack", "--json", "--ignore-scripts", join(root, "node_modules/jose")], {
        cwd: tarballs,
        encoding: "utf8",
      }),
    );
    const project = join(scratch, "project");
    mkdirSync(project);
    writeFileSync(
      join(project, "package.json"),
      JSON.stringify({
        name: "scratch-app",
        private: true,
        type: "module",
        dependencies: {
          "@edge-sessions/client": `file:${packed["@edge-sessions/client"].tarball}`,
          "@edge-sessions/origin": `file:${packed["@edge-sessions/origin"].tarball}`,
          jose: `file:${join(tarballs, jose.filename)}`,
        },
      }),
    );
    execFileSync("npm", ["install", "--offline", "--no-audit", "--no-fund", "--ignore-scripts"], {
      cwd: project,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const { privateKey } = await generateKeyPair("EdDSA", { extractable: true, crv: "Ed25519" });
    worker = await startWorker({
      vars: { ISSUER, SIGNING_KEY: JSON.stringify(await exportJWK(privateKey)), ASSERTION_AUDIENCES: AUDIENCE },
    });
  });
  after(async () => {
    await worker?.dispose();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  test("each tarball holds its code, types, README and both licences, at the repository's version", () => {
    const version = readJson(join(root, "package.json")).version;
    const common = ["LICENSE-APACHE", "LICENSE-MIT", "README.md", "index.d.ts", "index.js", "package.json"];
    const middleware = ["guard.js", "hono.d.ts", "hono.js", "node.d.ts", "node.js"];
    for (const [name, files] of [
      ["@edge-sessions/client", common],
      ["@edge-sessions/origin", [...common, ...middleware]],
    ]) {
      const { tarball } = packed[name];
      assert.deepEqual(tarFiles(tarball), files.sort(), name);
      const installed = join(scratch, "project/node_modules", name);
      const manifest = readJson(join(installed, "package.json"));
      assert.equal(manifest.version, version, name);
      assert.equal(manifest.license, "MIT OR Apache-2.0");
      assert.equal(manifest.sideEffects, false);
      assert.equal(manifest.exports["."].types, "./index.d.ts");
      for (const licence of ["LICENSE-MIT", "LICENSE-APACHE"])
        assert.equal(readFileSync(join(installed, licence), "utf8"), readFileSync(join(root, licence), "utf8"));
    }
  });

  test("the client depends on nothing and the origin SDK on jose alone, so a browser app gets no jose", () => {
    const client = readJson(join(scratch, "project/node_modules/@edge-sessions/client/package.json"));
    const origin = readJson(join(scratch, "project/node_modules/@edge-sessions/origin/package.json"));
    assert.equal(client.dependencies, undefined);
    assert.deepEqual(Object.keys(origin.dependencies), ["jose"]);
    assert.deepEqual(origin.peerDependenciesMeta, { express: { optional: true }, hono: { optional: true } });
    const lock = readJson(join(scratch, "project/package-lock.json"));
    assert.deepEqual(Object.keys(lock.packages).filter(Boolean).sort(), [
      "node_modules/@edge-sessions/client",
      "node_modules/@edge-sessions/origin",
      "node_modules/jose",
    ]);
  });

  test("a usage file type-checks under strict against the installed packages and runs against the worker", () => {
    const project = join(scratch, "project");
    for (const file of ["usage.ts", "tsconfig.json"])
      cpSync(fileURLToPath(new URL(`../packages/${file}`, import.meta.url)), join(project, file));
    const tsc = spawnSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", project], {
      encoding: "utf8",
    });
    assert.equal(tsc.status, 0, `tsc failed:\n${tsc.stdout}${tsc.stderr}`);
    assert.deepEqual(readdirSync(join(project, "out")), ["usage.js"]);

    const config = { baseUrl: worker.url.origin, adminKey: ADMIN_KEY, issuer: ISSUER, audience: AUDIENCE };
    // The middleware subpaths resolve from the installed package too (their frameworks are
    // optional peers, not installed here: the middlewares import nothing from them).
    const runner = `
      import { run } from "./out/usage.js";
      import { edgeSession as node } from "@edge-sessions/origin/node";
      import { edgeSession as hono } from "@edge-sessions/origin/hono";
      const result = await run(${JSON.stringify(config)});
      result.middlewares = [typeof node, typeof hono];
      console.log(JSON.stringify(result));`;
    const ran = spawnSync(process.execPath, ["--input-type=module", "-e", runner], { cwd: project, encoding: "utf8" });
    assert.equal(ran.status, 0, ran.stderr);
    const result = JSON.parse(ran.stdout);
    const sid = result.sessionId;
    assert.match(sid, /^sid_/);
    assert.deepEqual(result, {
      sessionId: sid,
      validated: { accountId: "pkg-user", sessionId: sid, claims: { plan: "pro" }, aal: 2 },
      verified: { accountId: "pkg-user", sessionId: sid, claims: { plan: "pro" } },
      refusal: { status: 403, code: "reauthentication_required", failed: ["min_aal"] },
      fleet: [sid],
      revoked: true,
      afterRevoke: "session_not_found",
      middlewares: ["function", "function"],
    });
  });
});

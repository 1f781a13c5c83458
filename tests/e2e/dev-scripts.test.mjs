// The developer's scripts, as README shows them: the flags `npm run dev -- ...` hands to
// `wrangler dev` (a user's flag replaces the script's default: wrangler refuses a flag
// given twice), scripts/build.sh skipping a build that would change nothing (run in a
// scratch copy with stand-ins for the tools, so no real build runs), and `npm run keygen`
// writing a key file or clean stdout.

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { calculateJwkThumbprint } from "jose";
import { unusedPort } from "./harness.mjs";

const root = fileURLToPath(new URL("../../", import.meta.url));

/** The arguments scripts/dev.sh passes to `wrangler dev` for these `npm run dev --` ones. */
function devArgs(args, env = {}) {
  const script = 'source scripts/lib.sh; wrangler_dev_args "$@"; printf "%s\\0" "${DEV_ARGS[@]}"';
  const out = execFileSync("bash", ["-c", script, "dev.sh", ...args], {
    cwd: root,
    env: { ...process.env, PORT: "", INSPECTOR_PORT: "", ...env },
    encoding: "utf8",
  });
  return out.split("\0").slice(0, -1);
}

function flagValues(args, flag) {
  const values = [];
  args.forEach((a, i) => {
    if (a === flag) values.push(args[i + 1]);
    else if (a.startsWith(`${flag}=`)) values.push(a.slice(flag.length + 1));
  });
  return values;
}

test("npm run dev: the script's defaults, each replaced by the user's own flag", () => {
  const plain = devArgs([]);
  assert.deepEqual(plain, ["--ip", "127.0.0.1", "--port", "8787", "--inspector-port", "9229"]);

  const cases = [
    [["--port", "19500"], "--port", "19500"],
    [["--port=19500"], "--port", "19500"],
    [["--inspector-port", "19501"], "--inspector-port", "19501"],
    [["--ip", "0.0.0.0"], "--ip", "0.0.0.0"],
  ];
  for (const [args, flag, value] of cases) {
    const got = devArgs([...args, "--var", "IDLE_TTL_SECS:60"]);
    assert.deepEqual(flagValues(got, flag), [value], `${args.join(" ")}: ${got.join(" ")}`);
    for (const other of ["--ip", "--port", "--inspector-port"]) {
      assert.equal(flagValues(got, other).length, 1, `${other} given once: ${got.join(" ")}`);
    }
    assert.deepEqual(got.slice(-2), ["--var", "IDLE_TTL_SECS:60"], "the user's arguments follow, as given");
  }
});

test("npm run dev: PORT and INSPECTOR_PORT still set the defaults, and a flag still wins", () => {
  const got = devArgs([], { PORT: "19600", INSPECTOR_PORT: "19601" });
  assert.deepEqual(flagValues(got, "--port"), ["19600"]);
  assert.deepEqual(flagValues(got, "--inspector-port"), ["19601"]);
  assert.deepEqual(flagValues(devArgs(["--port", "19700"], { PORT: "19600" }), "--port"), ["19700"]);
});

test("npm run dev refuses a wrangler.toml whose [vars] names a secret, before wrangler starts", async () => {
  const dir = mkdtempSync(join(tmpdir(), "edge-sessions-dev-"));
  try {
    // wrangler.toml with a secret in [vars]; main made absolute and [build] left out, so
    // that a wrangler that did start would serve the built worker rather than build one.
    const config = join(dir, "wrangler.toml");
    const text = readFileSync(join(root, "wrangler.toml"), "utf8")
      .replace(/\[build\]\ncommand = .*\n/, "")
      .replace(/^main = .*$/m, `main = ${JSON.stringify(join(root, "build/index.js"))}`)
      .replace("[vars]\n", '[vars]\nWEBHOOK_SECRET = "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3"\n');
    writeFileSync(config, text);
    const [port, inspector] = [await unusedPort(), await unusedPort()];
    const started = Date.now();
    const run = () =>
      execFileSync(
        "bash",
        ["scripts/dev.sh", "--config", config, "--port", String(port), "--inspector-port", String(inspector)],
        {
          cwd: root,
          encoding: "utf8",
          stdio: ["ignore", "pipe", "pipe"],
          timeout: 90_000,
          killSignal: "SIGINT",
        },
      );
    assert.throws(
      run,
      (e) =>
        e.status === 1 &&
        /WEBHOOK_SECRET in \[vars\]/.test(e.stderr) &&
        /wrangler secret put WEBHOOK_SECRET/.test(e.stderr),
      "refused, naming the secret",
    );
    assert.ok(Date.now() - started < 60_000, "before wrangler dev started");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

async function assertSigningKey(text, alg) {
  const key = JSON.parse(text);
  assert.equal(key.alg, alg);
  assert.ok(key.d, "a private key");
  const { kid, ...rest } = key;
  assert.equal(kid, await calculateJwkThumbprint(rest, "sha256"));
}

test("npm run keygen -- --out FILE writes a new file with mode 0600 and nothing on stdout", async () => {
  const dir = mkdtempSync(join(tmpdir(), "edge-sessions-keygen-"));
  try {
    for (const [alg, args] of [
      ["EdDSA", []],
      ["ES256", ["--alg", "ES256"]],
    ]) {
      const file = join(dir, `${alg}.json`);
      const stdout = execFileSync("node", ["scripts/keygen.mjs", ...args, "--out", file], {
        cwd: root,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
      });
      assert.equal(stdout, "", "the key goes only to the file");
      assert.equal(statSync(file).mode & 0o777, 0o600);
      await assertSigningKey(readFileSync(file, "utf8"), alg);
    }

    const existing = join(dir, "existing.json");
    writeFileSync(existing, "keep me");
    assert.throws(
      () => execFileSync("node", ["scripts/keygen.mjs", "--out", existing], { cwd: root, stdio: "pipe" }),
      (e) => e.status === 2 && /exists/.test(e.stderr.toString()),
    );
    assert.equal(readFileSync(existing, "utf8"), "keep me", "an existing file is never overwritten");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("npm run -s keygen prints exactly one line of JWK on stdout", async () => {
  const stdout = execFileSync("npm", ["run", "-s", "keygen"], {
    cwd: root,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  assert.equal(stdout.split("\n").length, 2, stdout);
  await assertSigningKey(stdout, "EdDSA");
});

// --- scripts/build.sh: what it runs, and when it runs nothing ---

/**
 * A scratch copy of the repository's build scripts, with a crate of two files and
 * stand-ins for setup.sh, rustc, worker-build and wasm-opt that note each call in
 * calls.log (worker-build writes the two outputs). `build(mode)` runs scripts/build.sh
 * there and returns the tools it called.
 */
function scratchBuild() {
  const dir = mkdtempSync(join(tmpdir(), "edge-sessions-build-"));
  const repo = join(dir, "repo");
  const bin = join(dir, "home", ".cargo", "bin");
  const log = join(dir, "calls.log");
  for (const d of ["scripts/shim", "src", "build"]) mkdirSync(join(repo, d), { recursive: true });
  mkdirSync(bin, { recursive: true });
  for (const f of ["scripts/build.sh", "scripts/lib.sh"]) copyFileSync(join(root, f), join(repo, f));
  const files = {
    "scripts/setup.sh": "exit 0\n",
    "scripts/shim/worker-shim.js": "// shim\n",
    "src/lib.rs": "pub fn answer() -> u32 { 42 }\n",
    "Cargo.toml": '[package]\nname = "scratch"\n',
    "Cargo.lock": "version = 4\n",
  };
  for (const [f, text] of Object.entries(files)) writeFileSync(join(repo, f), text);
  const tool = (name, body) => {
    writeFileSync(join(bin, name), `#!/usr/bin/env bash\necho "${name} $*" >> ${JSON.stringify(log)}\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  tool("rustc", 'echo "rustc 1.0.0 (scratch)"');
  tool(
    "worker-build",
    // The real one also writes the full-path twin (scripts/shim/esbuild).
    '[ -n "${STAND_IN_FAILS:-}" ] && exit 1; [ -n "${STAND_IN_EDITS:-}" ] && echo "// edited" >> src/lib.rs; echo "js $*" > build/index.js; echo "wasm $*" > build/index_bg.wasm; echo "twin $*" > build/full-path.js',
  );
  // Appends to the file after -o (the output).
  tool("wasm-opt", 'while [ $# -gt 0 ]; do [ "$1" = -o ] && echo stripped >> "$2"; shift; done');
  const build = (mode, env = {}) => {
    writeFileSync(log, "");
    execFileSync("bash", ["scripts/build.sh"], {
      cwd: repo,
      env: { ...process.env, HOME: join(dir, "home"), BUILD_MODE: mode, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    return readFileSync(log, "utf8")
      .split("\n")
      .filter((l) => l && !l.startsWith("rustc "))
      .map((l) => l.split(" --enable")[0]);
  };
  return { dir, repo, build };
}

test("build.sh: a release build is the optimised one, and the same build again runs nothing", () => {
  const { dir, build } = scratchBuild();
  try {
    assert.deepEqual(build("release"), [
      "worker-build --release",
      "wasm-opt build/index_bg.wasm --strip-debug -Oz -o build/index_bg.wasm",
    ]);
    assert.deepEqual(build("release"), [], "nothing changed: nothing runs");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("build.sh: a source edited while a build runs is built again by the next one", () => {
  const { dir, build } = scratchBuild();
  try {
    // The stamp names the inputs as the build found them, not as they are when it ends.
    assert.deepEqual(build("release", { STAND_IN_EDITS: "1" }).length, 2);
    assert.deepEqual(build("release"), [
      "worker-build --release",
      "wasm-opt build/index_bg.wasm --strip-debug -Oz -o build/index_bg.wasm",
    ]);
    assert.deepEqual(build("release"), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("build.sh: a dev build skips the size passes, and never passes for a release build", () => {
  const { dir, repo, build } = scratchBuild();
  try {
    assert.deepEqual(build("dev"), ["worker-build --release --no-opt"]);
    assert.deepEqual(build("dev"), []);
    assert.equal(readFileSync(join(repo, "build/index_bg.wasm"), "utf8"), "wasm --release --no-opt\n");
    // A test or a deployment after `npm run dev` gets the optimised build, not the dev one.
    assert.deepEqual(build("release"), [
      "worker-build --release",
      "wasm-opt build/index_bg.wasm --strip-debug -Oz -o build/index_bg.wasm",
    ]);
    assert.equal(readFileSync(join(repo, "build/index_bg.wasm"), "utf8"), "wasm --release\nstripped\n");
    assert.deepEqual(build("dev"), ["worker-build --release --no-opt"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("build.sh: a changed source, a new source, a changed lock file or a touched output builds again", () => {
  const { dir, repo, build } = scratchBuild();
  try {
    build("dev");
    const rebuilds = [
      ["a one-line change to src/", () => writeFileSync(join(repo, "src/lib.rs"), "pub fn answer() -> u32 { 43 }\n")],
      ["a new file in src/", () => writeFileSync(join(repo, "src/more.rs"), "// more\n")],
      ["Cargo.lock", () => writeFileSync(join(repo, "Cargo.lock"), "version = 4\n# changed\n")],
      ["the entry shim", () => writeFileSync(join(repo, "scripts/shim/worker-shim.js"), "// shim 2\n")],
      ["an output replaced", () => writeFileSync(join(repo, "build/index.js"), "something else\n")],
      ["an output removed", () => rmSync(join(repo, "build/index_bg.wasm"))],
      ["the full-path twin removed", () => rmSync(join(repo, "build/full-path.js"))],
    ];
    for (const [what, change] of rebuilds) {
      change();
      assert.deepEqual(build("dev"), ["worker-build --release --no-opt"], what);
      assert.deepEqual(build("dev"), [], `${what}, then nothing changed`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("build.sh: a failed build leaves nothing that counts as built, and an unknown mode is refused", () => {
  const { dir, repo, build } = scratchBuild();
  try {
    build("dev");
    writeFileSync(join(repo, "src/lib.rs"), "pub fn answer() -> u32 { 44 }\n");
    assert.throws(() => build("dev", { STAND_IN_FAILS: "1" }));
    writeFileSync(join(repo, "src/lib.rs"), "pub fn answer() -> u32 { 42 }\n"); // back to the built source
    assert.deepEqual(build("dev"), ["worker-build --release --no-opt"], "the failed attempt is not forgotten");
    assert.throws(
      () => build("fast"),
      (e) => e.status === 2 && /BUILD_MODE must be release or dev/.test(e.stderr.toString()),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("npm run dev asks for a dev build; npm test and wrangler deploy get the release build", () => {
  assert.match(readFileSync(join(root, "scripts/dev.sh"), "utf8"), /^export BUILD_MODE=dev$/m);
  for (const f of ["scripts/test.sh", "scripts/bench.sh"]) {
    assert.doesNotMatch(readFileSync(join(root, f), "utf8"), /BUILD_MODE/, f);
  }
  assert.match(readFileSync(join(root, "wrangler.toml"), "utf8"), /^\[build\]\ncommand = "bash scripts\/build.sh"$/m);
});

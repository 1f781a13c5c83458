// `npm run profile`: V8's CPU profiler inside workerd, over the inspector (the DevTools
// protocol's Profiler.start / Profiler.stop), while GET /v1/session is driven with
// keep-alive requests. Prints the top frames by self time and writes the .cpuprofile
// (open it in Chrome DevTools). Run it as `npm run profile`, which first builds the worker
// with the wasm name section kept (PROFILE_SCRIPT points here at that build; the
// release build's frames would read `wasm-function[N]`). PROFILE_REQUESTS (default
// 20000) sets the load. PROFILE_PATH=gated drives the gated forward instead (gatekeeper
// mode in front of a loopback origin that answers "ok", GET /app/page with a bearer
// token) and writes bench/results/gated.cpuprofile.

import http from "node:http";
import { writeFileSync, mkdirSync } from "node:fs";
import WebSocket from "ws";
import { startWorker, unusedPort } from "../tests/e2e/harness.mjs";
import { startLoopbackServer } from "../tests/e2e/support/origin.mjs";

const REQUESTS = Number(process.env.PROFILE_REQUESTS ?? 20000);
const GATED = process.env.PROFILE_PATH === "gated";
const NAME = GATED ? "gated" : "validate";
const root = new URL("../", import.meta.url);

async function devtools(port, name) {
  for (let i = 0; i < 50; i++) {
    try {
      const targets = await (await fetch(`http://127.0.0.1:${port}/json`)).json();
      const target = targets.find((t) => t.title?.includes(name) || t.url?.includes(name)) ?? targets[0];
      if (target?.webSocketDebuggerUrl) return target.webSocketDebuggerUrl;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("no inspector target");
}

function session(url) {
  const ws = new WebSocket(url);
  let id = 0;
  const pending = new Map();
  ws.on("message", (data) => {
    const msg = JSON.parse(data);
    if (msg.id && pending.has(msg.id)) {
      pending.get(msg.id)(msg);
      pending.delete(msg.id);
    }
  });
  const opened = new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  return {
    opened,
    send: (method, params = {}) =>
      new Promise((resolve) => {
        const n = ++id;
        pending.set(n, resolve);
        ws.send(JSON.stringify({ id: n, method, params }));
      }),
    close: () => ws.close(),
  };
}

async function drive(url, tokens, total) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  let next = 0;
  const one = () =>
    new Promise((resolve) => {
      const req = http.request(
        url,
        { agent, headers: { Authorization: `Bearer ${tokens[next++ % tokens.length]}` } },
        (res) => {
          res.resume();
          res.on("end", resolve);
        },
      );
      req.on("error", resolve);
      req.end();
    });
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < total) await one();
    }),
  );
  agent.destroy();
}

const inspectorPort = await unusedPort();
const origin = GATED
  ? await startLoopbackServer((req, res) => res.writeHead(200, { "Content-Type": "text/plain" }).end("ok"))
  : undefined;
const vars = GATED ? { ORIGIN_URL: origin.url } : {};
const worker = await startWorker({ inspectorPort, scriptPath: process.env.PROFILE_SCRIPT, vars });
try {
  const tokens = [];
  for (let i = 0; i < 200; i++) tokens.push((await worker.createSession(`profile-${i % 20}`)).token);
  const url = new URL(GATED ? "/app/page" : "/v1/session", worker.url);
  await drive(url, tokens, 2000); // warm up
  const cdp = session(await devtools(inspectorPort, "edge-sessions"));
  await cdp.opened;
  await cdp.send("Profiler.enable");
  await cdp.send("Profiler.setSamplingInterval", { interval: 50 });
  await cdp.send("Profiler.start");
  const started = performance.now();
  await drive(url, tokens, REQUESTS);
  const elapsed = performance.now() - started;
  const { result } = await cdp.send("Profiler.stop");
  cdp.close();
  const profile = result.profile;
  mkdirSync(new URL("bench/results/", root), { recursive: true });
  writeFileSync(new URL(`bench/results/${NAME}.cpuprofile`, root), JSON.stringify(profile));

  // Self time per function: samples × the average interval.
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const counts = new Map();
  for (const id of profile.samples) counts.set(id, (counts.get(id) ?? 0) + 1);
  const interval = (profile.endTime - profile.startTime) / Math.max(profile.samples.length, 1) / 1000;
  const self = new Map();
  for (const [id, n] of counts) {
    const f = byId.get(id).callFrame;
    const name = `${f.functionName || "(anonymous)"} ${f.url ? f.url.split("/").pop() : ""}`.trim();
    self.set(name, (self.get(name) ?? 0) + n * interval);
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  console.log(
    `${REQUESTS} ${GATED ? "gated forwards" : "validations"} in ${Math.round(elapsed)} ms; ${profile.samples.length} samples; profile in bench/results/${NAME}.cpuprofile\n`,
  );
  console.log("| self ms | % | frame |\n| --- | --- | --- |");
  for (const [name, ms] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) {
    console.log(`| ${ms.toFixed(1)} | ${((ms * 100) / total).toFixed(1)} | ${name} |`);
  }
} finally {
  await worker.dispose();
  await origin?.close();
}

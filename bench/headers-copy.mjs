// `node bench/headers-copy.mjs`: what the gated fast path's header handling costs in
// workerd, against the alternative (docs/performance.md, "The gated fast path"). For a
// browser-like request of 11 headers, each request to the measuring worker builds the
// origin's headers 2,000 times one way:
// - copy: `new Headers(request.headers)`, two deletes and a set (the rewritten Cookie),
//   which is what scripts/shim/worker-shim.js does with the plan wasm gives it;
// - append: a fresh `Headers` with every kept header appended (what the full path does,
//   there through wasm, and what bench/peer/gatekeeper.mjs does);
// - fresh: a fresh `Headers` and nothing else (the floor both share);
// then sets the five identity and forwarding headers. Prints the workerd process's CPU
// (user + system, from /proc) per build, over 8 alternating rounds of 5 requests each.
// A script, not a test: nothing asserts on the numbers.

import { Miniflare } from "miniflare";
import { readFileSync, readdirSync } from "node:fs";

const ITERATIONS = 2000;
const ROUNDS = 8;
const REQUESTS = 5;
const CLK_TCK = 100;

const script = `
const DROPPED = new Set(["cookie", "authorization", "host", "x-forwarded-for"]);
export default {
  fetch(request) {
    const way = new URL(request.url).pathname;
    for (let i = 0; i < ${ITERATIONS}; i++) {
      let headers;
      if (way === "/copy") {
        headers = new Headers(request.headers);
        headers.delete("authorization");
        headers.delete("host");
        headers.set("Cookie", "theme=dark; lang=en");
      } else if (way === "/append") {
        headers = new Headers();
        for (const [name, value] of request.headers) if (!DROPPED.has(name)) headers.append(name, value);
        headers.set("Cookie", "theme=dark; lang=en");
      } else {
        headers = new Headers();
      }
      headers.set("X-Session-Account", "acct");
      headers.set("X-Session-Id", "sid_0123");
      headers.set("X-Session-Expires", "2026-12-03T00:00:00Z");
      headers.set("X-Forwarded-Host", "app.example");
      headers.set("X-Forwarded-Proto", "https");
    }
    return new Response("ok");
  },
};`;

const workerd = () =>
  readdirSync("/proc").filter((p) => {
    try {
      return /^\d+$/.test(p) && readFileSync(`/proc/${p}/stat`, "utf8").includes("(workerd)");
    } catch {
      return false;
    }
  });
const before = new Set(workerd());
const mf = new Miniflare({ modules: true, script, compatibilityDate: "2026-04-20" });
const url = await mf.ready;
const pid = workerd().find((p) => !before.has(p));
const cpuSeconds = () => {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
};
const headers = {
  Accept: "text/html,application/xhtml+xml",
  "Accept-Language": "en-GB,en;q=0.9",
  "Accept-Encoding": "gzip, br",
  "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0 Safari/537.36",
  Cookie: `theme=dark; __Host-session=est_${"A".repeat(43)}; lang=en`,
  "Sec-Fetch-Dest": "document",
  "Sec-Fetch-Mode": "navigate",
  "Sec-Fetch-Site": "none",
  "Sec-Ch-Ua-Platform": '"Linux"',
  Referer: "https://app.example/",
  "Upgrade-Insecure-Requests": "1",
};
const seconds = { "/copy": 0, "/append": 0, "/fresh": 0 };
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const way of Object.keys(seconds)) {
      const start = cpuSeconds();
      for (let r = 0; r < REQUESTS; r++) await (await fetch(new URL(way, url), { headers })).text();
      seconds[way] += cpuSeconds() - start;
    }
  }
} finally {
  await mf.dispose();
}
const per = (way) => ((seconds[way] * 1e6) / (ROUNDS * REQUESTS * ITERATIONS)).toFixed(1);
console.log(
  `workerd CPU µs per header set built (11 request headers, 5 set): copy and delete ${per("/copy")}, ` +
    `append each ${per("/append")}, a fresh Headers and the sets only ${per("/fresh")}`,
);

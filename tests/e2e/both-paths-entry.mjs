// The real build and its full-path twin (build/full-path.js: the same glue, every request
// on the async `fetch` export) in one worker, so a test can send the same request down
// both paths against the same KV, Durable Objects and origin:
// - a request with `X-Test-Path: full` goes to the twin, any other to the build; each gets
//   a copy of the request without that header;
// - every session-key KV read and every outbound fetch is noted with whether wasm was on
//   the stack (the fast paths do both from the entry shim, the full path from wasm), and
//   GET /__test/callers answers the notes and clears them;
// - METRICS keeps every Analytics Engine data point; GET /__test/metrics answers them and
//   clears them.

import Build, { AccountSessions as BuildAccountSessions } from "../../build/index.js";
import FullPath from "../../build/full-path.js";
import { wrapBinding, wrapEnv } from "./wrapped-build.mjs";

let callers = [];
let points = [];
const onStack = () => (/wasm/.test(new Error().stack) ? "wasm" : "shim");

const platformFetch = globalThis.fetch;
globalThis.fetch = function fetchNoted(input, init) {
  callers.push(`fetch:${onStack()}`);
  return platformFetch(input, init);
};

const dataset = { writeDataPoint: (point) => void points.push(point) };
const wrap = {
  SESSIONS: (kv) =>
    wrapBinding(kv, {
      get:
        (real) =>
        (key, ...rest) => {
          if (String(key).startsWith("session:")) callers.push(`kv:${onStack()}`);
          return real(key, ...rest);
        },
    }),
  METRICS: () => dataset,
};

export class AccountSessions extends BuildAccountSessions {
  constructor(state, env) {
    super(state, wrapEnv(env, wrap));
  }
}

const MARKER = "x-test-path";

export default {
  fetch(request, env, ctx) {
    const path = new URL(request.url).pathname;
    if (path === "/__test/callers") {
      const answer = Response.json(callers);
      callers = [];
      return answer;
    }
    if (path === "/__test/metrics") {
      const answer = Response.json(points);
      points = [];
      return answer;
    }
    const worker = request.headers.get(MARKER) === "full" ? FullPath : Build;
    const headers = new Headers(request.headers);
    headers.delete(MARKER);
    const copy = new Request(request.url, {
      method: request.method,
      headers,
      body: request.body,
      redirect: "manual",
      cf: request.cf,
    });
    return worker.fetch(copy, wrapEnv(env, wrap), ctx);
  },
};

// The real build, with a clock the test can move forward: `POST /__clock?advance_ms=N`
// (answered by this wrapper, never by the worker) adds N ms to `Date.now` in the
// isolate, which the worker and its Durable Object read. For tests that must see a
// lifetime run out without waiting for it.
import SessionsWorker, { AccountSessions } from "../../build/index.js";

const realNow = Date.now;
let offsetMs = 0;
Date.now = () => realNow() + offsetMs;

export { AccountSessions };
export default {
  fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === "/__clock" && request.method === "POST") {
      offsetMs += Number(url.searchParams.get("advance_ms") ?? 0);
      return Response.json({ offset_ms: offsetMs });
    }
    return SessionsWorker.fetch(request, env, ctx);
  },
  queue: (batch, env, ctx) => SessionsWorker.queue(batch, env, ctx),
};

// The stale-KV build (stale-kv-entry.mjs: KV keeps serving the first value it read)
// with a METRICS binding that keeps every Analytics Engine data point the worker
// writes. GET /__test/metrics reads them.

import StaleKvWorker, { AccountSessions } from "./stale-kv-entry.mjs";
import { wrapEnv } from "./wrapped-build.mjs";

const points = [];
const dataset = { writeDataPoint: (point) => void points.push(point) };

export { AccountSessions };
export default {
  fetch(request, env, ctx) {
    if (new URL(request.url).pathname === "/__test/metrics") return Response.json(points);
    return StaleKvWorker.fetch(request, wrapEnv(env, { METRICS: () => dataset }), ctx);
  },
};

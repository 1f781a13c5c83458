// Starts the simulated fleet: `locations` instances of the built worker in one workerd
// (Miniflare), each its own worker with its own isolate, all bound to ONE Durable Object
// namespace (the class runs in the first location, the others bind it by `scriptName`),
// each seeing KV through the simulator's model (tests/fleet/location-entry.mjs).

import { Miniflare, Response } from "miniflare";
import { fileURLToPath } from "node:url";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { wranglerConfig, ADMIN_KEY } from "../e2e/harness.mjs";

const entry = fileURLToPath(new URL("./location-entry.mjs", import.meta.url));
const locationName = (i) => `loc${i}`;

/**
 * `vars`: the worker's configuration for every location (wrangler.toml's [vars] under
 * them). `handle(body)`: the simulator's answer to a binding call (KV, faults).
 */
export async function startFleet({ locations, vars, handle }) {
  const persist = mkdtempSync(join(tmpdir(), "fleet-"));
  const sim = async (request) => Response.json(await handle(await request.json()));
  const workerOptions = (currentVars) =>
    Array.from({ length: locations }, (_, i) => {
      const first = i === 0;
      return {
        name: locationName(i),
        scriptPath: entry,
        modules: true,
        modulesRules: [
          { type: "ESModule", include: ["**/*.js", "**/*.mjs"] },
          { type: "CompiledWasm", include: ["**/*.wasm"], fallthrough: true },
        ],
        compatibilityDate: wranglerConfig.compatibility_date,
        kvNamespaces: [`SESSIONS`],
        durableObjects: {
          ACCOUNTS: first
            ? { className: "AccountSessions", useSQLite: true }
            : { className: "AccountSessions", scriptName: locationName(0), useSQLite: true },
        },
        // The limiter protects capacity, not authentication: out of the way of the probes.
        ratelimits: { SESSION_LIMITER: { simple: { limit: 1000000, period: 60 } } },
        queueProducers: { EVENTS: { queueName: "session-events" } },
        queueConsumers: first
          ? { "session-events": { maxBatchSize: 10, maxBatchTimeout: 1, maxRetries: 20, retryDelay: 1 } }
          : {},
        serviceBindings: { SIM: sim },
        bindings: { ...wranglerConfig.vars, ...currentVars, ADMIN_KEY, SIM_LOCATION: locationName(i) },
      };
    });
  const logs = [];
  const collect = (stream) => {
    stream.setEncoding("utf8");
    stream.on("data", (chunk) => logs.push(...chunk.split("\n").filter(Boolean)));
  };
  const mf = new Miniflare({
    workers: workerOptions(vars),
    kvPersist: false,
    durableObjectsPersist: join(persist, "do"),
    handleRuntimeStdio(stdout, stderr) {
      collect(stdout);
      collect(stderr);
    },
  });
  await mf.ready;
  let stubs = await Promise.all(Array.from({ length: locations }, (_, i) => mf.getWorker(locationName(i))));
  const fleet = {
    mf,
    logs,
    locations: Array.from({ length: locations }, (_, i) => locationName(i)),
    /** A request at location `i`. */
    fetch(i, path, init = {}) {
      return stubs[i].fetch(new URL(path, "https://sessions.example"), { redirect: "manual", ...init });
    },
    /** A redeploy of every location with `extraVars` (the fleet cut-off is one). Durable Object storage stays. */
    async redeploy(extraVars) {
      await mf.setOptions({
        workers: workerOptions({ ...vars, ...extraVars }),
        kvPersist: false,
        durableObjectsPersist: join(persist, "do"),
        handleRuntimeStdio(stdout, stderr) {
          collect(stdout);
          collect(stderr);
        },
      });
      await mf.ready;
      stubs = await Promise.all(Array.from({ length: locations }, (_, j) => mf.getWorker(locationName(j))));
    },
    async dispose() {
      await mf.dispose();
      rmSync(persist, { recursive: true, force: true });
    },
  };
  return fleet;
}

// Starts the built worker (build/index.js, the file wrangler.toml's `main` names) in
// the real workerd runtime through Miniflare, with the bindings and vars read from
// wrangler.toml itself, so the tests cannot drift from what `wrangler dev` serves.

import { Miniflare } from "miniflare";
import { parse } from "smol-toml";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createServer } from "node:net";
import { checkAnswer, OpenApiMismatch } from "./support/openapi-conformance.mjs";

const root = new URL("../../", import.meta.url);
export const wranglerConfig = parse(readFileSync(new URL("wrangler.toml", root), "utf8"));

export const ADMIN_KEY = "e2e-admin-key-0123456789abcdef-0123456789";

/**
 * The running workers by URL origin, each with its check against openapi.json. Global
 * `fetch` to one of them (the client's and the origin SDK's tests, jose fetching the
 * JWKS) is checked like `worker.fetch`.
 */
const liveWorkers = new Map();
const nativeFetch = globalThis.fetch;
globalThis.fetch = async function fetchCheckedAgainstOpenApi(input, init) {
  const res = await nativeFetch(input, init);
  const url = new URL(input instanceof Request ? input.url : String(input));
  const check = liveWorkers.get(url.origin);
  if (check) await check(init?.method ?? (input instanceof Request ? input.method : "GET"), url, res);
  return res;
};

const sqliteClasses = new Set((wranglerConfig.migrations ?? []).flatMap((m) => m.new_sqlite_classes ?? []));

/**
 * Starts a worker. `vars` override wrangler.toml's [vars] (as `wrangler dev --var`
 * would); `adminKey: null` leaves ADMIN_KEY unset. `extraWorkers` are Miniflare worker
 * options run beside it in the same runtime (they can bind this one as the service
 * "edge-sessions"). `scriptPath` replaces the built script (the benchmark wraps it to
 * count binding calls). `ratelimits` replaces wrangler.toml's rate limiters, as
 * `{ NAME: { simple: { limit, period } } }`. `withoutBindings` leaves out the named
 * bindings of wrangler.toml (a deployment that forgot one). `https: { key, cert }` (PEM)
 * serves it over TLS as https://localhost:PORT (support/localhost-tls.mjs makes a pair);
 * `worker.fetch` still reaches it, through Miniflare. Returns helpers bound to it.
 */
export async function startWorker(options = {}) {
  const logs = [];
  const collect = (stream) => {
    stream.setEncoding("utf8");
    stream.on("data", (chunk) => logs.push(...chunk.split("\n").filter(Boolean)));
  };
  const mfOptions = miniflareOptions(options);
  const [{ bindings, kvNamespaces }] = mfOptions.workers;
  const mf = new Miniflare({
    ...mfOptions,
    handleRuntimeStdio(stdout, stderr) {
      collect(stdout);
      collect(stderr);
    },
  });
  const url = await mf.ready;
  const kv = kvNamespaces.includes("SESSIONS") ? await mf.getKVNamespace("SESSIONS") : undefined;

  // Every answer is checked against openapi.json (support/openapi-conformance.mjs); a
  // mismatch throws at the request, and is kept so that dispose() reports one a test
  // caught and dropped. Outside /v1/ the document describes only the built worker in API
  // mode: a gatekeeper forwards those paths, and a wrapped script adds its own.
  const mismatches = [];
  const gatekeeper = Boolean(bindings.ORIGIN_URL);
  const wrapped = options.scriptPath !== undefined;
  const check = async (method, target, res) => {
    if (!target.pathname.startsWith("/v1") && wrapped) return;
    try {
      await checkAnswer(method, target, res, { gatekeeper });
    } catch (e) {
      if (e instanceof OpenApiMismatch) mismatches.push(e.message);
      throw e;
    }
  };
  liveWorkers.set(url.origin, check);

  const worker = {
    mf,
    url,
    kv,
    logs,
    /** A request to the worker; `path` is relative to its URL. */
    async fetch(path, init = {}) {
      const target = new URL(path, url);
      const res = await mf.dispatchFetch(target, { redirect: "manual", ...init });
      await check(init.method ?? "GET", target, res);
      return res;
    },
    /** Checks an answer got around `fetch` (a raw dispatchFetch) against openapi.json, as `fetch` does. */
    checkAnswer: (method, target, res) => check(method, new URL(target), res),
    /** Creates a session through the admin API and returns the parsed 201 body. */
    async createSession(accountId, body, { headers = {} } = {}) {
      const res = await worker.fetch(`/v1/admin/accounts/${accountId}/sessions`, {
        method: "POST",
        headers: { Authorization: `Bearer ${ADMIN_KEY}`, "Content-Type": "application/json", ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const json = await res.json();
      if (res.status !== 201) throw new Error(`create failed: ${res.status} ${JSON.stringify(json)}`);
      return { ...json, setCookie: res.headers.get("set-cookie") };
    },
    /** GET /v1/session with a bearer token; returns { status, body }. */
    async validate(token, { query = "" } = {}) {
      const res = await worker.fetch(`/v1/session${query}`, { headers: { Authorization: `Bearer ${token}` } });
      return { status: res.status, body: await res.json() };
    },
    /** Every KV key with its value and metadata. */
    async dumpKv() {
      const entries = [];
      let cursor;
      do {
        const page = await kv.list({ cursor });
        for (const key of page.keys) {
          entries.push({
            name: key.name,
            value: await kv.get(key.name),
            metadata: key.metadata,
            expiration: key.expiration,
          });
        }
        cursor = page.list_complete ? undefined : page.cursor;
      } while (cursor);
      return entries;
    },
    /** Stops the worker; throws if any answer broke openapi.json, caught by its test or not. */
    async dispose() {
      liveWorkers.delete(url.origin);
      await mf.dispose();
      if (mismatches.length) throw new OpenApiMismatch(`answers that break openapi.json:\n${mismatches.join("\n")}`);
    },
  };
  return worker;
}

/**
 * The Miniflare options `startWorker` starts this worker with (its parameters, less the
 * log collection): the bindings and vars of wrangler.toml, and the same module rules.
 * The startup benchmark (bench/startup.mjs) starts exactly this, without the helpers.
 */
export function miniflareOptions({
  vars = {},
  adminKey = ADMIN_KEY,
  persistTo,
  extraWorkers = [],
  scriptPath,
  ratelimits,
  inspectorPort,
  withoutBindings = [],
  https,
} = {}) {
  const bound = (name) => !withoutBindings.includes(name);
  const bindings = { ...wranglerConfig.vars, ...vars };
  if (adminKey !== null) bindings.ADMIN_KEY = adminKey;
  const sessionsWorker = {
    name: wranglerConfig.name,
    scriptPath: scriptPath ?? fileURLToPath(new URL(wranglerConfig.main, root)),
    modules: true,
    modulesRules: [
      { type: "ESModule", include: ["**/*.js", "**/*.mjs"] },
      { type: "CompiledWasm", include: ["**/*.wasm"], fallthrough: true },
    ],
    compatibilityDate: wranglerConfig.compatibility_date,
    kvNamespaces: wranglerConfig.kv_namespaces.map((ns) => ns.binding).filter(bound),
    durableObjects: Object.fromEntries(
      wranglerConfig.durable_objects.bindings
        .filter((b) => bound(b.name))
        .map((b) => [b.name, { className: b.class_name, useSQLite: sqliteClasses.has(b.class_name) }]),
    ),
    ratelimits:
      ratelimits ??
      Object.fromEntries(
        (wranglerConfig.ratelimits ?? []).filter((r) => bound(r.name)).map((r) => [r.name, { simple: r.simple }]),
      ),
    queueProducers: Object.fromEntries(
      (wranglerConfig.queues?.producers ?? [])
        .filter((p) => bound(p.binding))
        .map((p) => [p.binding, { queueName: p.queue }]),
    ),
    queueConsumers: Object.fromEntries(
      (wranglerConfig.queues?.consumers ?? []).map((c) => [
        c.queue,
        {
          maxBatchSize: c.max_batch_size,
          maxBatchTimeout: c.max_batch_timeout,
          maxRetries: c.max_retries,
          deadLetterQueue: c.dead_letter_queue,
          retryDelay: c.retry_delay,
        },
      ]),
    ),
    bindings,
  };
  return {
    workers: [sessionsWorker, ...extraWorkers],
    inspectorPort, // the profiler (bench/profile.mjs) attaches here
    // A browser holds a certificate for a name, not an address: https is served as localhost.
    ...(https ? { host: "localhost", httpsKey: https.key, httpsCert: https.cert } : {}),
    kvPersist: persistTo ? `${persistTo}/kv` : false,
    durableObjectsPersist: persistTo ? `${persistTo}/do` : false,
  };
}

/** The blake3 KV key of a token, computed independently of the worker. */
export async function kvKeyOf(token) {
  const { hash } = await import("blake3-wasm");
  return `session:${hash(token).toString("hex")}`;
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A loopback port that nothing listens on (free to use, or to show a refused connection). */
export async function unusedPort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

// The example site: a static page on its own origin with a fake login, plus a tiny
// origin server that asks the worker's admin API for a session and passes the
// Set-Cookie through. Plain Node, no framework.
//
//   WORKER_URL=http://127.0.0.1:8787 ADMIN_KEY=... PORT=5173 node examples/site/server.mjs
//
// The worker must list this site's origin in ALLOWED_ORIGINS, e.g.
//   npm run dev -- --var ALLOWED_ORIGINS:http://127.0.0.1:5173
//
// The same site can also be the origin behind the worker in gatekeeper mode: set
// PUBLIC_ORIGIN (and WORKER_URL) to the worker's URL, start the worker with
// ORIGIN_URL=<this site>, LOGIN_URL=/ and PUBLIC_PATHS=/,/index.html,/login,/app.js,/client.js,/config.js;
// then the pages, the login and the worker's /v1/ API share one origin.

import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { createAdminClient } from "../../origin/index.js";
import { fitMetadata, LABEL_MAX_BYTES, USER_AGENT_MAX_BYTES } from "./device-info.mjs";

const here = new URL("./", import.meta.url);
const files = {
  "/": ["index.html", "text/html; charset=utf-8"],
  "/index.html": ["index.html", "text/html; charset=utf-8"],
  "/sessions.html": ["sessions.html", "text/html; charset=utf-8"],
  "/app.js": ["app.js", "text/javascript; charset=utf-8"],
  "/client.js": ["../../client/index.js", "text/javascript; charset=utf-8"],
};

/**
 * Starts the site; resolves to { url, close }. `publicOrigin` is the origin browsers see
 * it at when it runs behind the gatekeeper (default: its own). `fetch` reaches the
 * worker's admin API (default: the global one). `onRequest({ method, path, headers })`
 * sees every request as it arrives (a test's view of what reached the origin).
 */
export async function startSite({
  workerUrl,
  adminKey,
  port = 0,
  host = "127.0.0.1",
  publicOrigin,
  fetch,
  onRequest = () => {},
}) {
  const server = createServer(async (req, res) => {
    const path = new URL(req.url, "http://site").pathname;
    onRequest({ method: req.method, path, headers: req.headers });
    try {
      if (req.method === "POST" && path === "/login")
        return await login(req, res, { workerUrl, adminKey, ownOrigin: publicOrigin ?? origin, fetch });
      if (req.method === "GET" && path === "/config.js") {
        res.writeHead(200, { "Content-Type": "text/javascript; charset=utf-8" });
        return res.end(`export const WORKER_URL = ${JSON.stringify(workerUrl)};\n`);
      }
      const file = files[path];
      if (req.method !== "GET" || !file) {
        res.writeHead(404, { "Content-Type": "text/plain" });
        return res.end("not found");
      }
      res.writeHead(200, { "Content-Type": file[1], "Cache-Control": "no-store" });
      res.end(await readFile(new URL(file[0], here)));
    } catch (e) {
      console.error("example site:", e);
      res.writeHead(500, { "Content-Type": "text/plain" });
      res.end("site error");
    }
  });
  await new Promise((resolve) => server.listen(port, host, resolve));
  const origin = `http://${host}:${server.address().port}`;
  return {
    url: origin,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(resolve);
      }),
  };
}

const LOGIN_BODY_MAX = 4096;

/** The fake login: any username is accepted (a real origin checks a password here). */
async function login(req, res, { workerUrl, adminKey, ownOrigin, fetch }) {
  // Login CSRF: another site must not be able to sign a visitor in as someone else.
  if (req.headers.origin !== ownOrigin) {
    res.writeHead(403, { "Content-Type": "text/plain" });
    return res.end("sign in from this site's own page");
  }
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > LOGIN_BODY_MAX) {
      res.writeHead(413, { "Content-Type": "text/plain" });
      return res.end("too large");
    }
    chunks.push(chunk);
  }
  const form = new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
  const username = (form.get("username") ?? "").trim().toLowerCase();
  if (!/^[a-z0-9._@-]{1,64}$/.test(username)) {
    res.writeHead(400, { "Content-Type": "text/plain" });
    return res.end("pick a username of letters and digits");
  }
  let created;
  try {
    created = await createAdminClient({ baseUrl: workerUrl, adminKey, fetch }).createSession(username, {
      userAgent: fitMetadata(req.headers["user-agent"], USER_AGENT_MAX_BYTES),
      ip: req.socket.remoteAddress,
      label: fitMetadata(form.get("device"), LABEL_MAX_BYTES) || "browser",
    });
  } catch (e) {
    res.writeHead(502, { "Content-Type": "text/plain" });
    return res.end(`the session service said ${e.status ?? "nothing"} ${e.code ?? ""}`);
  }
  // The token stays in the cookie: the site never shows or stores it.
  res.writeHead(303, { Location: "/sessions.html", "Set-Cookie": created.setCookie });
  res.end();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const site = await startSite({
    workerUrl: process.env.WORKER_URL ?? "http://127.0.0.1:8787",
    adminKey: process.env.ADMIN_KEY ?? "local-dev-admin-key-0123456789abcdef",
    port: Number(process.env.PORT ?? 5173),
    publicOrigin: process.env.PUBLIC_ORIGIN,
  });
  console.log(`example site on ${site.url}`);
}

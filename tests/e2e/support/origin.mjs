// Loopback HTTP servers for the tests to put behind the worker: an origin that echoes
// what it receives (the gatekeeper's and the assertions' tests) and the bare server
// underneath it (the webhook receiver, the benchmark's origin).

import { createServer } from "node:http";

/**
 * Listens on 127.0.0.1 at a free port with `handler`; returns its `url` (no trailing
 * slash) and `close`, which drops keep-alive connections so it never waits on them.
 */
export async function startLoopbackServer(handler) {
  const server = createServer(handler);
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(resolve);
      }),
  };
}

/** Answers 200 with the request as JSON. */
const echo = (seen, res) => res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(seen));

/**
 * An origin that records every request, once its body has arrived, in `received` as
 * `{ method, url, headers, body }` (the body base64) and answers with `respond(seen, res)`:
 * by default 200 with that record as JSON.
 */
export async function startEchoOrigin({ respond = echo } = {}) {
  const received = [];
  const server = await startLoopbackServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const seen = {
        method: req.method,
        url: req.url,
        headers: req.headers,
        body: Buffer.concat(chunks).toString("base64"),
      };
      received.push(seen);
      respond(seen, res);
    });
  });
  return { ...server, received };
}

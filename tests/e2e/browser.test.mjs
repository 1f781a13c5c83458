// The example site in a real browser (Debian's Chromium driven by playwright-core):
// CORS with credentials, SameSite cookies, the __Host- cookie and preflights only show
// their true behaviour there.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { chromium } from "playwright-core";
import { startWorker, unusedPort, ADMIN_KEY } from "./harness.mjs";
import { startSite } from "../../examples/site/server.mjs";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const ARTIFACTS = new URL("../artifacts/", import.meta.url);

let worker, site, foreign, browser;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: run scripts/setup.sh test (it installs Debian's chromium)`);
  const sitePort = await unusedPort();
  worker = await startWorker({ vars: { ALLOWED_ORIGINS: `http://127.0.0.1:${sitePort}` } });
  const workerUrl = worker.url.origin;
  site = await startSite({ workerUrl, adminKey: ADMIN_KEY, port: sitePort });
  foreign = await startSite({ workerUrl, adminKey: ADMIN_KEY }); // another origin, not allowed
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
});

after(async () => {
  await browser?.close();
  await site?.close();
  await foreign?.close();
  await worker?.dispose();
});

async function signIn(context, device) {
  const page = await context.newPage();
  await page.goto(`${site.url}/`);
  await page.fill("#username", "alice");
  await page.fill("#device", device);
  await Promise.all([page.waitForURL(`${site.url}/sessions.html`), page.click("button[type=submit]")]);
  await page.waitForSelector("body[data-state=signed-in]");
  return page;
}

const listed = (page) =>
  page.$$eval("#sessions tr", (rows) =>
    rows.map((r) => ({
      id: r.dataset.sessionId,
      device: r.querySelector("td").firstChild.textContent,
      where: r.querySelector(".where").textContent,
      current: r.textContent.includes("This device"),
    })),
  );

test("two browsers sign in, one revokes the other, and a foreign origin cannot read the session", async () => {
  const laptop = await browser.newContext({ viewport: { width: 900, height: 560 } });
  const phone = await browser.newContext();

  const laptopPage = await signIn(laptop, "Laptop");
  assert.deepEqual(
    (await listed(laptopPage)).map((s) => [s.device, s.current]),
    [["Laptop", true]],
  );
  const [cookie] = await laptop.cookies();
  assert.equal(cookie.name, "__Host-session");
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.secure, true);
  assert.equal(cookie.sameSite, "Lax");
  assert.equal(await laptopPage.evaluate(() => document.cookie), "", "HttpOnly: page scripts cannot see the token");

  const phonePage = await signIn(phone, "Phone");
  await laptopPage.reload();
  await laptopPage.waitForSelector("body[data-state=signed-in]");
  const both = await listed(laptopPage);
  assert.deepEqual(
    both.map((s) => [s.device, s.current]),
    [
      ["Phone", false],
      ["Laptop", true],
    ],
  );

  // Where and on what each was last used, parsed by the worker from the browser's user
  // agent and platform hint, with the country `request.cf` gave (theft signals).
  for (const s of both) assert.match(s.where, /^Chrome on Linux( · [A-Z]{2})?$/, s.where);

  mkdirSync(ARTIFACTS, { recursive: true });
  await laptopPage.screenshot({ path: new URL("sessions-view.png", ARTIFACTS).pathname, fullPage: true });

  // The laptop revokes the phone.
  await laptopPage.click(`tr[data-session-id="${both[0].id}"] button.revoke`);
  await laptopPage.waitForFunction(() => document.querySelectorAll("#sessions tr").length === 1);
  assert.deepEqual(
    (await listed(laptopPage)).map((s) => s.device),
    ["Laptop"],
  );

  // The phone's next call is refused.
  const phoneResult = await phonePage.evaluate(() =>
    window.sessionClient.validate().then(
      () => "ok",
      (e) => `${e.status} ${e.code}`,
    ),
  );
  assert.equal(phoneResult, "401 session_not_found");
  await phonePage.reload();
  await phonePage.waitForSelector("body[data-state=signed-out]");

  // A page on a foreign origin, in the signed-in browser: the cookie goes along
  // (same site), but CORS keeps the answer from the page.
  const foreignPage = await laptop.newPage();
  await foreignPage.goto(`${foreign.url}/`);
  const read = await foreignPage.evaluate(async (url) => {
    try {
      const res = await fetch(`${url}/v1/session`, { credentials: "include" });
      return `read ${res.status}: ${await res.text()}`;
    } catch (e) {
      return `blocked: ${e.name}`;
    }
  }, worker.url.origin);
  assert.equal(read, "blocked: TypeError");
  // A no-preflight cross-origin write (a "simple" POST) reaches the worker with the
  // cookie, and the Origin check refuses it: the session is untouched.
  const before = await laptopPage.evaluate(() => window.sessionClient.validate());
  await foreignPage.evaluate(async (url) => {
    await fetch(`${url}/v1/session/refresh`, { method: "POST", credentials: "include", mode: "no-cors" }).catch(
      () => {},
    );
    await fetch(`${url}/v1/session`, { method: "DELETE", credentials: "include" }).catch(() => {});
  }, worker.url.origin);
  const after = await laptopPage.evaluate(() => window.sessionClient.validate());
  assert.deepEqual(after, before, "the foreign page changed nothing");

  await laptop.close();
  await phone.close();
});

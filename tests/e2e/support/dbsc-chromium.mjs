// Debian's Chromium set up to run Device Bound Session Credentials against a local worker,
// and a recorder of what it reports about them over CDP. Chromium needs three things for
// DBSC here (docs/contributing.md, "The browser tests"): a trusted https://localhost
// (the certificate's SPKI hash on the command line, never "ignore certificate errors",
// which turns DBSC off silently), the feature flags below, and a fresh profile.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

// Software keys stand in for a TPM; origin trial tokens are not needed on localhost with
// RequireOriginTrialTokens off; without RefreshQuota off a site gets about six signings
// per nine minutes.
const DBSC_FEATURES =
  "DeviceBoundSessions:RequireOriginTrialTokens/false/RefreshQuota/false," +
  "EnableBoundSessionCredentialsSoftwareKeysForManualTesting";

/** The switches the other browser test uses: no sandbox (containers), no background traffic. */
const QUIET_SWITCHES = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * Chromium in a fresh profile (a persistent context in a new directory: DBSC keeps its
 * keys and sessions in the profile, and an off-the-record context is not the real thing),
 * trusting the certificate whose SPKI SHA-256 is `spkiSha256`. Resolves to
 * { context, close }; close also deletes the profile.
 */
export async function launchDbscChromium({ spkiSha256 }) {
  const profile = mkdtempSync(join(tmpdir(), "dbsc-profile-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: [
      ...QUIET_SWITCHES,
      `--ignore-certificate-errors-spki-list=${spkiSha256}`,
      `--enable-features=${DBSC_FEATURES}`,
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Subscribes to the page's device-bound-session reports. `sessions` is every session
 * Chromium has added; `events` every creation, refresh, challenge and termination, in
 * order, with `at` (ms since epoch). `waitFor(predicate, what, ms)` resolves to the first
 * event that matches, or throws with every report so far (which says why a step failed).
 */
export async function watchDeviceBoundSessions(context, page) {
  const cdp = await context.newCDPSession(page);
  const sessions = [];
  const events = [];
  const waiters = new Set();
  cdp.on("Network.deviceBoundSessionsAdded", ({ sessions: added }) => sessions.push(...added));
  cdp.on("Network.deviceBoundSessionEventOccurred", (event) => {
    events.push({ at: Date.now(), ...event });
    for (const waiter of waiters) waiter();
  });
  await cdp.send("Network.enable");
  await cdp.send("Network.enableDeviceBoundSessions", { enable: true });
  const report = () => JSON.stringify({ sessions, events }, null, 2);
  return {
    sessions,
    events,
    report,
    waitFor(predicate, what, ms) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = events.find(predicate);
          if (!hit) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(hit);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(`Chromium reported no ${what} within ${ms} ms; its device-bound-session reports:\n${report()}`),
          );
        }, ms);
        waiters.add(check);
        check();
      });
    },
  };
}

// Request headers and response reading that most end-to-end tests share.

import assert from "node:assert/strict";
import { ADMIN_KEY } from "../harness.mjs";

/** The admin API's credentials (the harness starts every worker with ADMIN_KEY). */
export const admin = { Authorization: `Bearer ${ADMIN_KEY}` };

/** The admin credentials for a request with a JSON body. */
export const adminJson = { ...admin, "Content-Type": "application/json" };

/** A session holder's credentials. */
export const bearer = (token) => ({ Authorization: `Bearer ${token}` });

/** Asserts the status (the body is the message when it differs) and parses the body; null when empty. */
export async function json(res, status) {
  const text = await res.text();
  assert.equal(res.status, status, text);
  return text ? JSON.parse(text) : null;
}

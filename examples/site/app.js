// The "your sessions" view: lists the account's devices through the worker's JSON API
// (with credentials, across origins) and revokes them.
import { createSessionClient, SessionApiError } from "/client.js";
import { WORKER_URL } from "/config.js";

const client = createSessionClient({ baseUrl: WORKER_URL });
const rows = document.querySelector("#sessions");
const status = document.querySelector("#status");
const who = document.querySelector("#who");

const when = (iso) => new Date(iso).toLocaleString();

function signedOut(reason) {
  who.textContent = "You are signed out.";
  rows.replaceChildren();
  status.textContent = reason ?? "";
  document.body.dataset.state = "signed-out";
}

async function render() {
  let sessions;
  try {
    const me = await client.validate();
    who.textContent = `Signed in as ${me.account_id}.`;
    sessions = await client.listSessions();
  } catch (e) {
    if (e instanceof SessionApiError && e.status === 401) return signedOut(`(${e.code})`);
    status.textContent = `Could not load sessions: ${e.message}`;
    return;
  }
  rows.replaceChildren(
    ...sessions.map((s) => {
      const tr = document.createElement("tr");
      tr.dataset.sessionId = s.session_id;
      const device = document.createElement("td");
      device.textContent = s.label ?? "Unnamed device";
      // Where and on what it was last used, as the worker parsed it ("Chrome on Linux ·
      // DE", like GitHub's sessions page); the full user agent on hover.
      const where = document.createElement("div");
      where.className = "muted where";
      where.textContent = s.country ? `${s.device} · ${s.country}` : s.device;
      where.title = s.user_agent ?? "";
      device.append(where);
      const created = document.createElement("td");
      created.textContent = when(s.created_at);
      const seen = document.createElement("td");
      seen.textContent = when(s.last_seen_at);
      const action = document.createElement("td");
      if (s.current) {
        action.className = "current";
        action.textContent = "This device";
      } else {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "revoke";
        button.textContent = "Revoke";
        button.addEventListener("click", async () => {
          await client.revokeSession(s.session_id);
          status.textContent = "Session revoked.";
          await render();
        });
        action.append(button);
      }
      tr.append(device, created, seen, action);
      return tr;
    }),
  );
  document.body.dataset.state = "signed-in";
}

document.querySelector("#logout-others").addEventListener("click", async () => {
  const n = await client.logoutOthers();
  status.textContent = `Logged out ${n} other session${n === 1 ? "" : "s"}.`;
  await render();
});

document.querySelector("#logout-everywhere").addEventListener("click", async () => {
  await client.logoutEverywhere();
  signedOut("Logged out everywhere.");
});

// Exposed for the browser test and for poking at from the console.
window.sessionClient = client;
await render();

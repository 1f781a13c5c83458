// The worker's secrets, in one place. Each is set with `npx wrangler secret put NAME` in
// production and in `.dev.vars` locally, never in wrangler.toml's [vars]: those are
// deployed and shown in plain text, and the runtime cannot tell a var from a secret, so
// the worker would take one without a word. A new secret goes in this list.
//
// Read by the deploy dry-run test (tests/e2e/deploy.test.mjs, which also checks this list
// against docs/configuration.md) and by `npm run dev`:
//
//   node scripts/secrets.mjs check [wrangler flags]   exits 1 naming each secret found in
//                                                     the [vars] of the configuration that
//                                                     wrangler would read (--config/-c, or
//                                                     wrangler.toml)

import { readFileSync } from "node:fs";
import { parse } from "smol-toml";
import { fileURLToPath } from "node:url";

export const SECRETS = [
  "ADMIN_KEY",
  "ADMIN_KEY_PREVIOUS",
  "SIGNING_KEY",
  "SIGNING_KEY_PREVIOUS",
  "SIGNING_KEY_NEXT",
  "WEBHOOK_SECRET",
  "WEBHOOK_SECRET_PREVIOUS",
  "DEVICE_BINDING_SECRET",
];

/** Each secret named in a [vars] table (top level or an environment's) of this configuration, as `NAME in [table]`. */
export function secretsInVars(configText) {
  const config = parse(configText);
  const tables = [
    ["vars", config.vars],
    ...Object.entries(config.env ?? {}).map(([name, env]) => [`env.${name}.vars`, env?.vars]),
  ];
  return tables.flatMap(([table, vars]) =>
    Object.keys(vars ?? {})
      .filter((name) => SECRETS.includes(name))
      .map((name) => `${name} in [${table}]`),
  );
}

/** Throws, naming each secret and how to set it instead, if the configuration lists any in [vars]. */
export function refuseSecretsInVars(configText, file = "wrangler.toml") {
  const found = secretsInVars(configText);
  if (found.length === 0) return;
  const names = [...new Set(found.map((f) => f.split(" ")[0]))];
  const one = names.length === 1;
  const commands = names.map((name) => `\`npx wrangler secret put ${name}\``).join(", ");
  throw new Error(
    `${file}: ${found.join(", ")}: ${one ? "a secret" : "secrets"}, never a [vars] entry ([vars] are deployed ` +
      `in plain text). Remove ${one ? "it" : "them"} from ${file}; use ${commands} in production ` +
      "and .dev.vars locally.",
  );
}

/** The file wrangler reads for these flags: `--config FILE`, `--config=FILE`, `-c FILE`, else wrangler.toml. */
export function configFileOf(args) {
  let file = "wrangler.toml";
  for (let i = 0; i < args.length; i += 1) {
    if (args[i] === "--") break;
    if ((args[i] === "--config" || args[i] === "-c") && i + 1 < args.length) file = args[++i];
    else if (args[i].startsWith("--config=")) file = args[i].slice("--config=".length);
  }
  return file;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [command, ...args] = process.argv.slice(2);
  if (command !== "check") {
    console.error("usage: node scripts/secrets.mjs check [wrangler flags]");
    process.exit(2);
  }
  const file = configFileOf(args);
  try {
    refuseSecretsInVars(readFileSync(file, "utf8"), file);
  } catch (e) {
    console.error(e.code === "ENOENT" ? `${file}: not found` : e.message);
    process.exit(1);
  }
}

// The SDKs' hand-written types against what the worker sends, without starting it:
// - client/index.d.ts and origin/index.d.ts response types against openapi.json's schemas
//   (property names, which are optional, which may be null), read with the TypeScript
//   compiler's type checker, so inherited properties count; the origin SDK's names are
//   the wire's in camelCase;
// - both SDKs' error-code unions against the codes in src/core/error_code.rs (as_str)
//   and openapi.json's Error enum;
// - the admin client's methods against openapi.json's admin operations;
// - the origin SDK's reserved claim names (origin/index.js) against the core's
//   RESERVED_CLAIMS (src/core/claims.rs).
// The Rust side is read as source text: the worker is wasm, and these are plain tables.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const root = new URL("../../", import.meta.url);
const read = (path) => readFileSync(new URL(path, root), "utf8");
const doc = JSON.parse(read("openapi.json"));
const sorted = (values) => [...values].sort();

// --- openapi.json: a schema's properties, following $ref and allOf ---

function resolve(schema) {
  if (!schema.$ref) return schema;
  const name = schema.$ref.replace("#/components/schemas/", "");
  assert.ok(doc.components.schemas[name], `openapi.json has no schema ${name}`);
  return resolve(doc.components.schemas[name]);
}

/** { name: { optional, nullable } } for an object schema. */
function schemaShape(schema) {
  const s = resolve(schema);
  if (s.allOf) return Object.assign({}, ...s.allOf.map(schemaShape));
  const required = new Set(s.required ?? []);
  return Object.fromEntries(
    Object.entries(s.properties ?? {}).map(([name, p]) => {
      const types = [resolve(p).type].flat();
      return [name, { optional: !required.has(name), nullable: types.includes("null") }];
    }),
  );
}

/** The JSON schema of a route's answer, where openapi.json declares it inline. */
function responseSchema(path, method, status) {
  const schema = doc.paths[path]?.[method]?.responses?.[status]?.content?.["application/json"]?.schema;
  assert.ok(schema, `openapi.json has no JSON ${status} answer for ${method.toUpperCase()} ${path}`);
  return schema;
}

// --- the .d.ts files: an interface's properties, inherited ones included ---

const dtsFiles = { client: "client/index.d.ts", origin: "origin/index.d.ts" };
const program = ts.createProgram(
  Object.values(dtsFiles).map((f) => fileURLToPath(new URL(f, root))),
  { strict: true, noEmit: true, types: [], lib: ["lib.es2022.d.ts", "lib.dom.d.ts"] },
);
const checker = program.getTypeChecker();

function interfaceShape(sdk, name) {
  const source = program.getSourceFile(fileURLToPath(new URL(dtsFiles[sdk], root)));
  const decl = source.statements.find((s) => ts.isInterfaceDeclaration(s) && s.name.text === name);
  assert.ok(decl, `${dtsFiles[sdk]} declares no interface ${name}`);
  const type = checker.getTypeAtLocation(decl.name);
  return Object.fromEntries(
    checker.getPropertiesOfType(type).map((p) => {
      const t = checker.getTypeOfSymbolAtLocation(p, decl);
      const nullable = (t.isUnion() ? t.types : [t]).some((u) => u.flags & ts.TypeFlags.Null);
      return [p.name, { optional: (p.flags & ts.SymbolFlags.Optional) !== 0, nullable }];
    }),
  );
}

/** `session_id` → `sessionId`: the origin SDK's one casing rule (origin/index.d.ts). */
const camel = (name) => name.replace(/_([a-z])/g, (_, c) => c.toUpperCase());

/**
 * Which interface describes which schema. `casing: "camel"`: the SDK renames every
 * property to camelCase. `sdkOnly`: properties the SDK adds to what it
 * received. `absent`: properties of the schema that never reach this caller. `required`:
 * optional in the schema, but always present where this SDK reads it.
 */
const PINS = [
  { sdk: "client", name: "Session", schema: "Session", why: "GET /v1/session, refresh" },
  { sdk: "client", name: "RotatedSession", schema: "RotatedSession", why: "POST /v1/session/rotate" },
  {
    sdk: "client",
    name: "AccessToken",
    response: ["/v1/session/token", "get", "200"],
    why: "GET /v1/session/token",
  },
  { sdk: "client", name: "ErrorBody", schema: "Error", why: "every refusal, SessionApiError.body" },
  {
    sdk: "client",
    name: "ListedSession",
    schema: "ListedSession",
    why: "GET /v1/sessions",
    required: { current: "the holder's listing marks every entry" },
  },
  {
    sdk: "client",
    name: "ListedImpersonation",
    schema: "ListedImpersonation",
    why: "GET /v1/sessions impersonations",
  },
  {
    sdk: "origin",
    casing: "camel",
    name: "CreatedSession",
    schema: "CreatedSession",
    why: "createSession",
    sdkOnly: { setCookie: "the Set-Cookie header", setCookies: "every Set-Cookie header" },
  },
  {
    sdk: "origin",
    casing: "camel",
    name: "ListedAdminSession",
    schema: "ListedSession",
    why: "listSessions, updateClaims of one session",
    absent: { current: "only in the holder's listing" },
  },
  {
    sdk: "origin",
    casing: "camel",
    name: "ReauthenticatedSession",
    schema: "IssuedToken",
    why: "reauthenticate",
    sdkOnly: { setCookie: "the Set-Cookie header", setCookies: "every Set-Cookie header" },
  },
  { sdk: "origin", casing: "camel", name: "FleetSession", schema: "FleetSession", why: "listAllSessions" },
  { sdk: "origin", casing: "camel", name: "FleetPage", schema: "FleetList", why: "listAllSessions" },
  { sdk: "origin", casing: "camel", name: "ImpersonationSession", schema: "IssuedToken", why: "createImpersonation" },
  {
    sdk: "origin",
    casing: "camel",
    name: "ListedImpersonation",
    schema: "ListedImpersonation",
    why: "listImpersonations",
  },
  {
    sdk: "origin",
    casing: "camel",
    name: "FleetImpersonation",
    schema: "FleetImpersonation",
    why: "listActorImpersonations",
  },
  {
    sdk: "origin",
    casing: "camel",
    name: "FleetImpersonationPage",
    schema: "FleetImpersonationList",
    why: "listActorImpersonations",
  },
];

for (const pin of PINS) {
  const documentedAs = pin.schema ?? `${pin.response[1].toUpperCase()} ${pin.response[0]} ${pin.response[2]}`;
  test(`${pin.sdk} ${pin.name} has the properties of openapi.json's ${documentedAs} (${pin.why})`, () => {
    const declared = interfaceShape(pin.sdk, pin.name);
    const wire = schemaShape(
      pin.schema ? { $ref: `#/components/schemas/${pin.schema}` } : responseSchema(...pin.response),
    );
    const documented =
      pin.casing === "camel" ? Object.fromEntries(Object.entries(wire).map(([k, v]) => [camel(k), v])) : wire;
    for (const name of Object.keys(pin.sdkOnly ?? {})) {
      assert.ok(declared[name], `${pin.name}.${name} is listed as added by the SDK but not declared`);
      assert.ok(!documented[name], `${name} is in ${documentedAs} now: drop it from sdkOnly`);
      delete declared[name];
    }
    for (const name of Object.keys(pin.absent ?? {})) {
      assert.ok(documented[name], `${documentedAs}.${name} is listed as absent but not documented`);
      delete documented[name];
    }
    for (const name of Object.keys(pin.required ?? {})) {
      assert.ok(documented[name]?.optional, `${documentedAs}.${name} is not optional: drop it from required`);
      documented[name].optional = false;
    }
    assert.deepEqual(sorted(Object.keys(declared)), sorted(Object.keys(documented)), "property names");
    assert.deepEqual(declared, documented, "which properties are optional and which may be null");
  });
}

// --- error codes ---

/** The wire strings of src/core/error_code.rs, from `as_str`, and the variants of `ALL`. */
function rustErrorCodes() {
  const source = read("src/core/error_code.rs");
  const all = source.match(/pub const ALL: \[ErrorCode; (\d+)\] = \[([^\]]*)\];/);
  assert.ok(all, "error_code.rs has `pub const ALL: [ErrorCode; N] = [...]`");
  const variants = [...all[2].matchAll(/ErrorCode::(\w+)/g)].map((m) => m[1]);
  assert.equal(variants.length, Number(all[1]));
  const body = source.match(/pub const fn as_str\(self\) -> &'static str \{\s*match self \{([\s\S]*?)\n {8}\}/);
  assert.ok(body, "error_code.rs has `pub const fn as_str(self) -> &'static str { match self { ... } }`");
  const arms = [...body[1].matchAll(/((?:ErrorCode::\w+\s*\|?\s*)+)=>\s*"([^"]+)"/g)];
  const mapped = arms.flatMap((m) => [...m[1].matchAll(/ErrorCode::(\w+)/g)].map((v) => v[1]));
  assert.deepEqual(sorted(mapped), sorted(variants), "as_str maps exactly the variants of ALL");
  return new Set(arms.map((m) => m[2]));
}

/** The string literals of `export type <name> = ...` in an SDK's .d.ts. */
function errorCodeUnion(sdk, name) {
  const source = program.getSourceFile(fileURLToPath(new URL(dtsFiles[sdk], root)));
  const alias = source.statements.find((s) => ts.isTypeAliasDeclaration(s) && s.name.text === name);
  assert.ok(alias && ts.isUnionTypeNode(alias.type), `${dtsFiles[sdk]} has a ${name} union`);
  return new Set(
    alias.type.types.filter((t) => ts.isLiteralTypeNode(t) && ts.isStringLiteral(t.literal)).map((t) => t.literal.text),
  );
}

/** Each SDK's own code, for an answer that is not the worker's JSON (client/index.js, origin/index.js). */
const SDK_ONLY_CODES = ["unexpected_response"];

for (const [sdk, union, error] of [
  ["client", "SessionErrorCode", "SessionApiError"],
  ["origin", "AdminErrorCode", "AdminApiError"],
]) {
  test(`${error}'s codes (${sdk} ${union}) are the worker's (error_code.rs and openapi.json), plus its own`, () => {
    const rust = rustErrorCodes();
    const documented = new Set(doc.components.schemas.Error.properties.error.enum);
    const declared = errorCodeUnion(sdk, union);
    assert.deepEqual(sorted(documented), sorted(rust), "openapi.json's Error enum against ErrorCode::as_str");
    for (const code of SDK_ONLY_CODES) {
      assert.ok(!rust.has(code), `the worker sends ${code} now: it is not the SDK's own any more`);
      assert.ok(declared.has(code), `${dtsFiles[sdk]} lacks its own code ${code}`);
      declared.delete(code);
    }
    assert.deepEqual(sorted(declared), sorted(rust), `${union} against ErrorCode::as_str`);
    const js = read(`${sdk}/index.js`);
    for (const code of SDK_ONLY_CODES) assert.ok(js.includes(`"${code}"`), `${sdk}/index.js never sends ${code}`);
  });
}

// --- the admin client against the admin routes ---

/** Which AdminClient method calls each admin operation of openapi.json. */
const ADMIN_METHODS = {
  createSession: "createSession",
  listAccountSessions: "listSessions",
  revokeAccountSessions: "revokeAll",
  updateAccountClaims: "updateClaims",
  revokeAccountSession: "revokeSession",
  updateSessionClaims: "updateClaims",
  listAllSessions: "listAllSessions",
  reauthenticateSession: "reauthenticate",
  createImpersonation: "createImpersonation",
  listAccountImpersonations: "listImpersonations",
  endAccountImpersonations: "endImpersonations",
  endImpersonation: "endImpersonation",
  listActorImpersonations: "listActorImpersonations",
  endActorImpersonations: "endActorImpersonations",
};

test("the admin client has a method for every admin operation in openapi.json", () => {
  const operations = Object.entries(doc.paths)
    .filter(([path]) => path.startsWith("/v1/admin/"))
    .flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([, op]) => op?.operationId)
        .map(([method, op]) => [op.operationId, `${method.toUpperCase()} ${path}`]),
    );
  assert.ok(operations.length > 0);
  const methods = new Set(Object.keys(interfaceShape("origin", "AdminClient")));
  for (const [operationId, route] of operations) {
    const method = ADMIN_METHODS[operationId];
    assert.ok(method, `${route} (${operationId}) has no admin client method: add one, and list it here`);
    assert.ok(methods.has(method), `AdminClient declares no ${method} (for ${route})`);
  }
  assert.deepEqual(
    sorted(Object.keys(ADMIN_METHODS)),
    sorted(operations.map(([id]) => id)),
    "ADMIN_METHODS names only operations that exist",
  );
  const js = read("origin/index.js");
  for (const method of new Set(Object.values(ADMIN_METHODS)))
    assert.match(js, new RegExp(`async ${method}\\(`), `origin/index.js implements ${method}`);
});

// --- reserved claim names ---

test("the origin SDK strips exactly the claim names the core reserves", () => {
  const rust = read("src/core/claims.rs").match(/pub const RESERVED_CLAIMS: \[&str; (\d+)\] = \[([^\]]*)\];/);
  assert.ok(rust, "claims.rs has `pub const RESERVED_CLAIMS: [&str; N] = [...]`");
  const reserved = [...rust[2].matchAll(/"([^"]+)"/g)].map((m) => m[1]);
  assert.equal(reserved.length, Number(rust[1]));

  const js = ts.createSourceFile("index.js", read("origin/index.js"), ts.ScriptTarget.Latest, true, ts.ScriptKind.JS);
  let registered;
  js.forEachChild(function visit(node) {
    if (ts.isVariableDeclaration(node) && node.name.getText() === "REGISTERED") registered = node.initializer;
    node.forEachChild(visit);
  });
  assert.ok(
    registered && ts.isNewExpression(registered) && ts.isArrayLiteralExpression(registered.arguments?.[0]),
    "origin/index.js has `const REGISTERED = new Set([...])`",
  );
  const stripped = registered.arguments[0].elements.map((e) => {
    assert.ok(ts.isStringLiteral(e), `REGISTERED holds only string literals, not ${e.getText()}`);
    return e.text;
  });
  assert.deepEqual(sorted(stripped), sorted(reserved));
});

// The SDKs' hand-written types against what the worker sends, without starting it:
// - client/index.d.ts and origin/index.d.ts response types against openapi.json's schemas
//   (property names, which are optional, which may be null), read with the TypeScript
//   compiler's type checker, so inherited properties count;
// - the client's error-code union against the codes in src/core/error_code.rs (as_str)
//   and openapi.json's Error enum;
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

/**
 * Which interface describes which schema. `sdkOnly`: properties the SDK adds to what it
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
    sdk: "origin",
    name: "CreatedSession",
    schema: "CreatedSession",
    why: "createSession",
    sdkOnly: { sessionId: "session_id again", setCookie: "the Set-Cookie header" },
  },
  {
    sdk: "origin",
    name: "ListedAdminSession",
    schema: "ListedSession",
    why: "listSessions, updateClaims of one session",
    absent: { current: "only in the holder's listing" },
  },
  {
    sdk: "origin",
    name: "ReauthenticatedSession",
    schema: "IssuedToken",
    why: "reauthenticate",
    sdkOnly: { setCookie: "the Set-Cookie header" },
  },
];

for (const pin of PINS) {
  const documentedAs = pin.schema ?? `${pin.response[1].toUpperCase()} ${pin.response[0]} ${pin.response[2]}`;
  test(`${pin.sdk} ${pin.name} has the properties of openapi.json's ${documentedAs} (${pin.why})`, () => {
    const declared = interfaceShape(pin.sdk, pin.name);
    const documented = schemaShape(
      pin.schema ? { $ref: `#/components/schemas/${pin.schema}` } : responseSchema(...pin.response),
    );
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

/** The string literals of `export type SessionErrorCode = ...` in client/index.d.ts. */
function clientErrorCodes() {
  const source = program.getSourceFile(fileURLToPath(new URL(dtsFiles.client, root)));
  const alias = source.statements.find((s) => ts.isTypeAliasDeclaration(s) && s.name.text === "SessionErrorCode");
  assert.ok(alias && ts.isUnionTypeNode(alias.type), "client/index.d.ts has a SessionErrorCode union");
  return new Set(
    alias.type.types.filter((t) => ts.isLiteralTypeNode(t) && ts.isStringLiteral(t.literal)).map((t) => t.literal.text),
  );
}

/** The client's own code, for an answer that is not the worker's JSON (client/index.js). */
const CLIENT_ONLY_CODES = ["unexpected_response"];

test("the client's error codes are the worker's (error_code.rs and openapi.json), plus its own", () => {
  const rust = rustErrorCodes();
  const documented = new Set(doc.components.schemas.Error.properties.error.enum);
  const client = clientErrorCodes();
  assert.deepEqual(sorted(documented), sorted(rust), "openapi.json's Error enum against ErrorCode::as_str");
  for (const code of CLIENT_ONLY_CODES) {
    assert.ok(!rust.has(code), `the worker sends ${code} now: it is not the client's own any more`);
    assert.ok(client.has(code), `client/index.d.ts lacks its own code ${code}`);
    client.delete(code);
  }
  assert.deepEqual(sorted(client), sorted(rust), "SessionErrorCode against ErrorCode::as_str");
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

// Every answer the end-to-end tests receive from the worker, checked against openapi.json
// with Ajv (JSON Schema 2020-12, the dialect of OpenAPI 3.1): the request's method and
// path find the operation, the status finds the documented response, and the body must
// have the content type it declares and, when that is JSON, fit its schema. The webhook
// deliveries are checked against the document's `webhooks` the same way.
//
// The harness calls `checkAnswer` on every `worker.fetch` and on every global `fetch` to
// a running worker, and throws what it finds, so a test fails at the request that broke
// the document. Each schema is compiled once, the first time an answer needs it.

import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { readFileSync } from "node:fs";

export const doc = JSON.parse(readFileSync(new URL("../../../openapi.json", import.meta.url), "utf8"));

const DOC_ID = "openapi.json";
// The document is added whole, so that its `#/components/...` references resolve, and
// Ajv reads its root as a schema: its top-level fields, and OpenAPI's annotations inside
// schemas, are declared as keywords that check nothing (strict mode refuses the unknown).
const OPENAPI_KEYWORDS = [
  ...["openapi", "info", "jsonSchemaDialect", "servers", "tags", "paths", "webhooks", "components", "security"],
  ...["example", "discriminator", "xml", "externalDocs"],
];

const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false });
addFormats(ajv);
ajv.addVocabulary(OPENAPI_KEYWORDS);
ajv.addSchema(doc, DOC_ID);

const escape = (segment) => segment.replaceAll("~", "~0").replaceAll("/", "~1");
/** The JSON pointer of a place in the document, from its path of keys. */
export const pointer = (...keys) => `/${keys.map((k) => escape(String(k))).join("/")}`;

/** What the document holds at `ptr` (a `$ref` to a local place is followed). */
export function at(ptr) {
  const node = ptr
    .slice(1)
    .split("/")
    .reduce((node, key) => node?.[key.replaceAll("~1", "/").replaceAll("~0", "~")], doc);
  return node?.$ref?.startsWith("#/") ? at(node.$ref.slice(1)) : node;
}

const compiled = new Map();
// How many answers were checked and schemas compiled: OPENAPI_CHECK_STATS=1 prints them at exit.
const checked = { answers: 0, ms: 0 };
if (process.env.OPENAPI_CHECK_STATS)
  process.on("exit", () =>
    console.error(
      `openapi checks: ${checked.answers} answers, ${compiled.size} schemas compiled, ${checked.ms.toFixed(0)} ms checking`,
    ),
  );
/** The validator of the schema at `ptr` in the document, compiled on first use. */
export function validatorAt(ptr) {
  let validate = compiled.get(ptr);
  if (!validate) {
    validate = ajv.getSchema(`${DOC_ID}#${ptr}`);
    if (!validate) throw new Error(`openapi.json has no schema at ${ptr}`);
    compiled.set(ptr, validate);
  }
  return validate;
}

/** Ajv's errors as short lines: where, and what is wrong. Empty when `value` fits. */
export function schemaErrors(ptr, value) {
  const validate = validatorAt(ptr);
  if (validate(value)) return [];
  return validate.errors.map((e) => `${e.instancePath || "(root)"} ${e.message} (${e.schemaPath})`);
}

// Operations by method, each path template as a pattern. A parameter is one segment.
const operations = [];
for (const [template, item] of Object.entries(doc.paths)) {
  const literal = template.replace(/\{[^}]+\}/g, "").length;
  const pattern = new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{[^}]+\}/g, "[^/]+")}$`);
  for (const [method, op] of Object.entries(item)) {
    if (["get", "put", "post", "delete", "patch", "options", "head", "trace"].includes(method))
      operations.push({ template, method, op, pattern, literal });
  }
}

/** The document's operation for `method path`, the most literal template first (`/v1/session/token` over a parameter). */
export function findOperation(method, path) {
  const lower = method.toLowerCase();
  const found = operations.filter((o) => o.method === lower && o.pattern.test(path));
  return found.sort((a, b) => b.literal - a.literal)[0];
}

/** Whether some operation has this path, with any method. */
const isDocumentedPath = (path) => operations.some((o) => o.pattern.test(path));

const mediaType = (contentType) => contentType?.split(";")[0].trim().toLowerCase() || null;
const isJson = (type) => type === "application/json" || Boolean(type?.endsWith("+json"));

/** The error codes a response's description lists (`Error codes: `a`, `b`.`). */
export function listedCodes(response) {
  const tail = response.description?.split("Error codes:")[1];
  return tail ? [...tail.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]) : [];
}

/**
 * Checks one body against the response documented at `responsePtr`: its content type is
 * one the response declares (none for an empty answer); a JSON body fits the schema; an
 * error's code is one the response's description lists. Returns the problems.
 */
function checkBody(responsePtr, response, { contentType, text, headers }) {
  const problems = [];
  for (const [name, header] of Object.entries(response.headers ?? {})) {
    const resolved = header.$ref ? at(header.$ref.slice(1)) : header;
    if (resolved.required && headers?.get(name) == null) problems.push(`the required header ${name} is missing`);
  }
  const declared = Object.keys(response.content ?? {});
  const type = mediaType(contentType);
  if (declared.length === 0) {
    if (text !== "") problems.push(`a body (${type}) where the document declares none: ${text.slice(0, 200)}`);
    return problems;
  }
  if (text === "") return [...problems, `no body where the document declares ${declared.join(", ")}`];
  if (!declared.includes(type)) return [...problems, `Content-Type ${type}, not ${declared.join(" or ")}`];
  if (!isJson(type)) return problems;
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    return [...problems, `a ${type} body that is not JSON: ${text.slice(0, 200)}`];
  }
  const schemaPtr = `${responsePtr}/content/${escape(type)}/schema`;
  const errors = schemaErrors(schemaPtr, body);
  if (errors.length)
    problems.push(`the body does not fit its schema: ${errors.join("; ")}; body ${text.slice(0, 300)}`);
  const unnamed = unnamedFields(at(schemaPtr), body);
  if (unnamed.length) problems.push(`the body has fields its schema does not name: ${unnamed.join(", ")}`);
  const codes = listedCodes(response);
  if (codes.length && typeof body?.error === "string" && !codes.includes(body.error))
    problems.push(`error ${body.error} is not among the codes this response lists (${codes.join(", ")})`);
  return problems;
}

/**
 * The fields of `value` that `schema` does not name, as JSON paths. JSON Schema lets an
 * object schema without `additionalProperties` take any other field; the document is
 * meant to name everything the worker sends, so an answer with a field it does not name
 * is a mismatch too. A schema with no `properties` (any object), or with
 * `additionalProperties`, `patternProperties` or `propertyNames` (an open map such as
 * Claims), names all its fields.
 */
export function unnamedFields(schema, value, path = "") {
  if (value === null || typeof value !== "object") return [];
  const branches = [];
  (function collect(node) {
    if (!node || typeof node !== "object") return;
    if (node.$ref) collect(at(node.$ref.slice(1)));
    branches.push(node);
    for (const key of ["allOf", "anyOf", "oneOf"]) for (const b of node[key] ?? []) collect(b);
  })(schema);
  if (Array.isArray(value)) {
    const items = branches.filter((b) => b.items).map((b) => b.items);
    return items.length ? value.flatMap((v, i) => items.flatMap((s) => unnamedFields(s, v, `${path}[${i}]`))) : [];
  }
  const open =
    !branches.some((b) => b.properties) ||
    branches.some((b) => "additionalProperties" in b || b.patternProperties || b.propertyNames);
  const unnamed = [];
  for (const [key, v] of Object.entries(value)) {
    const named = branches.filter((b) => b.properties && key in b.properties).map((b) => b.properties[key]);
    if (named.length === 0 && !open) unnamed.push(`${path}/${key}`);
    for (const s of named) unnamed.push(...unnamedFields(s, v, `${path}/${key}`));
  }
  return [...new Set(unnamed)];
}

const ERROR_PTR = pointer("components", "schemas", "Error");

/**
 * The ways an answer breaks the document; empty when it conforms. `gatekeeper`: paths
 * outside /v1/ go to the origin, whose answers the document does not describe.
 * An answer to no operation (a 404 `not_found`, a 405, a CORS preflight) must be an
 * `Error` when it has a JSON body, as the document's description says.
 */
export function answerProblems({ method, url, status, headers, text, gatekeeper = false }) {
  const { pathname } = new URL(url);
  const found = findOperation(method, pathname);
  if (!found) {
    if (gatekeeper && !pathname.startsWith("/v1/") && !isDocumentedPath(pathname)) return [];
    const type = mediaType(headers.get("content-type"));
    if (text === "") return [];
    if (!isJson(type)) return [`an answer to no operation with a ${type} body`];
    let body;
    try {
      body = JSON.parse(text);
    } catch {
      return [`a ${type} body that is not JSON: ${text.slice(0, 200)}`];
    }
    const errors = schemaErrors(ERROR_PTR, body);
    if (errors.length) return [`an answer to no operation that is not an Error: ${errors.join("; ")}`];
    const unnamed = unnamedFields(at(ERROR_PTR), body);
    return unnamed.length ? [`an Error with fields the schema does not name: ${unnamed.join(", ")}`] : [];
  }
  const { template, op } = found;
  const responses = op.responses ?? {};
  const key = [String(status), `${String(status)[0]}XX`, "default"].find((k) => responses[k]);
  if (!key) return [`status ${status} is not documented (${Object.keys(responses).join(", ")}): ${text.slice(0, 300)}`];
  const documented = responses[key];
  const responsePtr = documented.$ref?.slice(1) ?? pointer("paths", template, found.method, "responses", key);
  const response = at(responsePtr);
  const body = method.toUpperCase() === "HEAD" ? "" : text;
  return checkBody(responsePtr, response, { contentType: headers.get("content-type"), text: body, headers });
}

/** Reads a clone of `res` and throws when it breaks the document, naming the operation, the status and why. */
export async function checkAnswer(method, url, res, options = {}) {
  checked.answers++;
  const text = await res.clone().text();
  const started = performance.now();
  const problems = answerProblems({ method, url, status: res.status, headers: res.headers, text, ...options });
  checked.ms += performance.now() - started;
  if (problems.length === 0) return;
  const { pathname } = new URL(url);
  const found = findOperation(method, pathname);
  const name = found ? `${found.op.operationId} (${method.toUpperCase()} ${found.template})` : `${method} ${pathname}`;
  throw new OpenApiMismatch(`openapi.json: ${name} answered ${res.status}: ${problems.join(" | ")}`);
}

export class OpenApiMismatch extends Error {
  name = "OpenApiMismatch";
}

/**
 * The ways one webhook delivery breaks the document's `webhooks`: its `type` names a
 * documented webhook, the Standard Webhooks headers are there and fit their schemas,
 * and the body fits the webhook's request schema. `headers` is Node's (lower-case keys).
 */
export function webhookProblems(headers, text) {
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    return [`a webhook body that is not JSON: ${text.slice(0, 200)}`];
  }
  const name = body?.type;
  const item = doc.webhooks?.[name];
  if (!item?.post) return [`no webhook ${JSON.stringify(name)} in openapi.json`];
  const problems = [];
  const params = [
    ...(item.parameters ?? []).map((p, i) => [p, pointer("webhooks", name, "parameters", i)]),
    ...(item.post.parameters ?? []).map((p, i) => [p, pointer("webhooks", name, "post", "parameters", i)]),
  ].map(([p, ptr]) => (p.$ref ? [at(p.$ref.slice(1)), p.$ref.slice(1)] : [p, ptr]));
  for (const [p, ptr] of params) {
    if (p.in !== "header") continue;
    const value = headers[p.name.toLowerCase()];
    if (value === undefined) {
      if (p.required) problems.push(`the header ${p.name} is missing`);
      continue;
    }
    const typed = [at(`${ptr}/schema`).type].flat().includes("integer") && /^\d+$/.test(value) ? Number(value) : value;
    const errors = schemaErrors(`${ptr}/schema`, typed);
    if (errors.length) problems.push(`the header ${p.name} (${value}): ${errors.join("; ")}`);
  }
  const type = mediaType(headers["content-type"]);
  const declared = Object.keys(item.post.requestBody?.content ?? {});
  if (!declared.includes(type)) problems.push(`Content-Type ${type}, not ${declared.join(" or ")}`);
  else {
    const schemaPtr = pointer("webhooks", name, "post", "requestBody", "content", type, "schema");
    const errors = schemaErrors(schemaPtr, body);
    if (errors.length) problems.push(`the body does not fit its schema: ${errors.join("; ")}; body ${text}`);
    const unnamed = unnamedFields(at(schemaPtr), body);
    if (unnamed.length) problems.push(`the body has fields its schema does not name: ${unnamed.join(", ")}`);
  }
  return problems;
}

// Where each object of the document is, so a test holding a schema (found by walking the
// document) can validate against it in place, its `$ref`s resolving as they do here.
const places = new Map();
(function index(node, ptr) {
  if (node === null || typeof node !== "object") return;
  places.set(node, ptr);
  for (const [key, child] of Object.entries(node)) index(child, `${ptr}/${escape(key)}`);
})(doc, "");

/**
 * Ajv's errors for `value` against `schema`: an object of the document (a schema a test
 * reached by walking it) or `{ $ref: "#/..." }` into it. Empty when `value` fits.
 */
export function violations(schema, value) {
  const ptr =
    places.get(schema) ?? (Object.keys(schema).length === 1 && schema.$ref?.startsWith("#/") && schema.$ref.slice(1));
  if (typeof ptr !== "string") throw new Error(`violations(): not a schema of openapi.json: ${JSON.stringify(schema)}`);
  return schemaErrors(ptr, value);
}

/**
 * Builds the OpenAPI 3.1 document from the operations list and its zod schemas. JSON Schema
 * 2020-12 is OpenAPI 3.1's dialect, so zod's output goes in as it is; the input side of each schema
 * (`io: "input"`) is what a client sends.
 */
import { z } from 'zod';
import { OPERATIONS, type Operation } from './operations.js';
import { PATH_PARAMS, components } from './schemas.js';

type JsonObject = Record<string, unknown>;

const REF = (id: string) => `#/components/schemas/${id}`;
const OPTIONS = { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' } as const;

/** The error answers every operation may give, beside its own. */
const ERRORS: Record<number, string> = {
  400: 'invalid_parameter (names the parameter), or another client mistake',
  404: "not_found: no such table, row or job of the caller's, or no such route",
  503: 'service_unavailable: PostgreSQL or Redis is away, or the server is busy; retry later',
};
const TASK_ERRORS: Record<number, string> = {
  400: 'invalid_parameter, too_frequent (with Retry-After), too_many_rows, invalid_file',
  413: 'file_too_large, payload_too_large',
};

/** `/table/:table_id/` → `/table/{table_id}/`. */
export function openApiPath(expressPath: string): string {
  return expressPath.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');
}

const DESCRIPTION = `Table data exports and imports as background jobs, with the results emailed. Models MinApp's table import/export API; every path is served under both /oserve/v1 and /oserve/v1.5.`;

/** Built once per base path and version: the operations do not change while the process runs. */
const cache = new Map<string, JsonObject>();

/**
 * The document for one base path (`/oserve/v1` or `/oserve/v1.5`, which serve the same operations).
 * `registered` (`METHOD /express/path`, from `registeredRoutes`) keeps the operations whose routes
 * the app has; without it every known operation is listed.
 */
export function openApiDocument(base: string, version = '0.1.0', registered?: ReadonlySet<string>): JsonObject {
  const key = `${version} ${base}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const operations = OPERATIONS.filter((op) => !registered || registered.has(`${op.method.toUpperCase()} ${op.path}`));
  const generated = z.toJSONSchema(components, { ...OPTIONS, uri: REF }) as { schemas: Record<string, JsonObject> };
  // `$id` would be a fragment-only URI, which JSON Schema 2020-12 does not allow; the key names the schema already.
  const schemas = Object.fromEntries(Object.entries(generated.schemas).map(([id, s]) => [id, without(s, '$schema', '$id')]));
  const paths: Record<string, Record<string, JsonObject>> = {};
  for (const op of operations) {
    const path = openApiPath(op.path);
    paths[path] ??= {};
    paths[path][op.method] = operation(op);
  }
  const doc: JsonObject = {
    openapi: '3.1.0',
    info: {
      title: 'tableport',
      version,
      description: DESCRIPTION,
    },
    servers: [{ url: base }],
    security: [{ bearer: [] }],
    tags: [...new Set(operations.map((o) => o.tag))].map((name) => ({ name })),
    paths,
    components: {
      schemas,
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An API token from `tableport users add`' } },
    },
  };
  cache.set(key, doc);
  return doc;
}

function operation(op: Operation): JsonObject {
  const parameters: JsonObject[] = [];
  for (const name of op.path.match(/:([A-Za-z_][A-Za-z0-9_]*)/g) ?? []) {
    const key = name.slice(1);
    const schema = PATH_PARAMS[key];
    if (!schema) throw new Error(`openapi: no schema for the path parameter "${key}" of ${op.path}`);
    parameters.push(parameter(key, 'path', schema, true));
  }
  for (const [key, schema] of Object.entries(op.query?.shape ?? {})) {
    parameters.push(parameter(key, 'query', schema, !schema.safeParse(undefined).success));
  }
  const out: JsonObject = { operationId: op.operationId, summary: op.summary, tags: [op.tag] };
  if (parameters.length) out.parameters = parameters;
  if (op.body) out.requestBody = { required: true, content: { [op.body.contentType]: { schema: bodySchema(op) } } };
  const responses: Record<string, JsonObject> = {};
  for (const [status, r] of Object.entries(op.responses)) {
    responses[status] = r.schema
      ? { description: r.description, content: { [r.contentType ?? 'application/json']: { schema: ref(r.schema) } } }
      : r.contentType
        ? { description: r.description, content: { [r.contentType]: { schema: { type: 'string', contentMediaType: r.contentType } } } }
        : { description: r.description };
  }
  const errors = {
    ...ERRORS,
    ...(op.body ? TASK_ERRORS : {}),
    ...(op.auth === false ? {} : { 401: 'unauthorized: a missing or unknown API token' }),
  };
  for (const [status, description] of Object.entries(errors)) {
    responses[status] ??= { description, content: { 'application/json': { schema: { $ref: REF('Error') } } } };
  }
  out.responses = responses;
  if (op.auth === false) out.security = [];
  return out;
}

/** A copy of `json` without `keys`. */
function without(json: JsonObject, ...keys: string[]): JsonObject {
  return Object.fromEntries(Object.entries(json).filter(([k]) => !keys.includes(k)));
}

function parameter(name: string, where: 'path' | 'query', schema: z.ZodType, required: boolean): JsonObject {
  const json = z.toJSONSchema(schema, OPTIONS) as JsonObject;
  const description = json.description;
  return { name, in: where, required, ...(description ? { description } : {}), schema: without(json, '$schema', 'description') };
}

/** A named schema becomes a `$ref`; another is written in place. */
function ref(schema: z.ZodType): JsonObject {
  const id = components.get(schema)?.id;
  if (id) return { $ref: REF(id) };
  return without(z.toJSONSchema(schema, OPTIONS) as JsonObject, '$schema');
}

function bodySchema(op: Operation): JsonObject {
  const body = op.body;
  if (!body) return {};
  if (!body.file) return ref(body.schema);
  // A form: the file beside the schema's fields.
  return {
    allOf: [
      ref(body.schema),
      {
        type: 'object',
        required: ['file'],
        properties: { file: { type: 'string', contentMediaType: 'application/octet-stream', description: 'The file to import' } },
      },
    ],
  };
}

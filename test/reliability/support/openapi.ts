import { readFileSync } from 'node:fs';

/** Where the global setup saved the app's /docs-json, so specs can list routes synchronously. */
export const OPENAPI_FILE_ENV = 'RELIABILITY_OPENAPI_FILE';

export interface SchemaObject {
  $ref?: string;
  type?: string | string[];
  format?: string;
  enum?: unknown[];
  items?: SchemaObject;
  properties?: Record<string, SchemaObject>;
  required?: string[];
  allOf?: SchemaObject[];
  oneOf?: SchemaObject[];
  anyOf?: SchemaObject[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  nullable?: boolean;
}

export interface ParameterObject {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: SchemaObject;
}

export interface OperationObject {
  parameters?: ParameterObject[];
  requestBody?: { content?: Record<string, { schema?: SchemaObject }> };
  security?: Array<Record<string, string[]>>;
}

export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, OperationObject>>;
  components?: { schemas?: Record<string, SchemaObject> };
}

export interface Operation {
  method: string;
  /** OpenAPI template, e.g. /users/{id}. */
  path: string;
  pathParams: string[];
  query: ParameterObject[];
  /** Media type -> schema (refs resolved one level at use). */
  bodies: Record<string, SchemaObject | undefined>;
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

export function loadOpenApi(): OpenApiDocument {
  const file = process.env[OPENAPI_FILE_ENV];
  if (!file)
    throw new Error(`${OPENAPI_FILE_ENV} is not set: run through jest.reliability.config.js`);
  return JSON.parse(readFileSync(file, 'utf8')) as OpenApiDocument;
}

export function operations(doc: OpenApiDocument): Operation[] {
  const out: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!METHODS.includes(method)) continue;
      const params = op.parameters ?? [];
      const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      out.push({
        method: method.toUpperCase(),
        path,
        pathParams: templated,
        query: params.filter((p) => p.in === 'query'),
        bodies: Object.fromEntries(
          Object.entries(op.requestBody?.content ?? {}).map(([type, media]) => [
            type,
            media.schema,
          ]),
        ),
      });
    }
  }
  return out;
}

export function hasOperation(doc: OpenApiDocument, method: string, path: string): boolean {
  return Boolean(doc.paths[path]?.[method.toLowerCase()]);
}

/** Follows `$ref` (and merges `allOf`) so generators see the properties. */
export function resolveSchema(
  doc: OpenApiDocument,
  schema: SchemaObject | undefined,
  depth = 0,
): SchemaObject | undefined {
  if (!schema || depth > 8) return schema;
  if (schema.$ref) {
    const name = schema.$ref.replace('#/components/schemas/', '');
    return resolveSchema(doc, doc.components?.schemas?.[name], depth + 1);
  }
  if (schema.allOf?.length) {
    const parts = schema.allOf.map((s) => resolveSchema(doc, s, depth + 1) ?? {});
    return {
      ...schema,
      allOf: undefined,
      type: 'object',
      properties: Object.assign({}, ...parts.map((p) => p.properties ?? {})) as Record<
        string,
        SchemaObject
      >,
      required: parts.flatMap((p) => p.required ?? []),
    };
  }
  return schema;
}

import fc from 'fast-check';
import type { RequestSpec } from './http';
import { OpenApiDocument, Operation, resolveSchema, SchemaObject } from './openapi';

/** Percent-encodes every byte outside RFC 3986's unreserved set (so any string is a legal path). */
export function encodeComponent(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Path segments that are already "encoded" on purpose: broken escapes, traversal, injection. */
const NASTY_SEGMENTS = [
  '',
  '..',
  '%2e%2e',
  '%2F',
  '%00',
  '%',
  '%zz',
  '%FF',
  '%C0%AF',
  '%E2%80%AE',
  'null',
  'undefined',
  '-1',
  '0',
  '1e309',
  'NaN',
  '__proto__',
  'constructor',
  '%20',
  "'%20OR%201=1--",
  '00000000-0000-0000-0000-000000000000',
  'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF',
  '%7B6f1c2e1e-3a4b-4c5d-8e9f-0a1b2c3d4e5f%7D',
  '6f1c2e1e3a4b4c5d8e9f0a1b2c3d4e5f',
  '6f1c2e1e-3a4b-4c5d-8e9f-0a1b2c3d4e5', // one digit short
  'me',
];

const text = fc.oneof(
  { arbitrary: fc.string({ maxLength: 40 }), weight: 4 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }), weight: 3 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 20 }), weight: 1 },
  { arbitrary: fc.string({ minLength: 300, maxLength: 3000 }), weight: 1 },
);

/** Any JSON-ish value a client could send where something else was expected. */
const wildValue: fc.Arbitrary<unknown> = fc.oneof(
  text,
  fc.integer(),
  fc.double(),
  fc.constantFrom(
    null,
    true,
    false,
    0,
    -1,
    2 ** 31,
    2 ** 53 + 1,
    1e308,
    -1e308,
    '',
    ' ',
    'null',
    '1',
    '2099-01-01T00:00:00Z',
    '1900-01-01',
    'not-a-date',
  ),
  fc.jsonValue({ maxDepth: 2 }),
);

export interface FuzzContext {
  doc: OpenApiDocument;
  /** Authorization header values to pick from (valid tokens of several roles, and junk). */
  authorizations: Array<string | undefined>;
  /** Ids that exist, so some requests get past the 404 and into the handlers. */
  knownIds: string[];
  /**
   * Values worth trying for a body property of this name, mixed in with the generated ones
   * (e.g. `id_token`: real signed ID tokens, good and hostile, that random strings never are).
   */
  samples?: Record<string, string[]>;
}

function valueFor(
  ctx: FuzzContext,
  raw: SchemaObject | undefined,
  depth = 0,
): fc.Arbitrary<unknown> {
  const schema = resolveSchema(ctx.doc, raw);
  if (!schema || depth > 4) return wildValue;
  let typed: fc.Arbitrary<unknown>;
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  if (schema.enum?.length) {
    typed = fc.constantFrom(...schema.enum);
  } else if (schema.oneOf?.length || schema.anyOf?.length) {
    typed = fc.oneof(...(schema.oneOf ?? schema.anyOf)!.map((s) => valueFor(ctx, s, depth + 1)));
  } else if (type === 'string') {
    if (schema.format === 'date-time' || schema.format === 'date') {
      typed = fc
        .date({ min: new Date('1970-01-01'), max: new Date('2200-01-01'), noInvalidDate: true })
        .map((d) => d.toISOString());
    } else if (schema.format === 'uuid') {
      typed = fc.oneof(fc.uuid(), fc.constantFrom(...(ctx.knownIds.length ? ctx.knownIds : ['x'])));
    } else if (schema.format === 'email') {
      typed = fc.emailAddress();
    } else {
      typed = fc.string({
        minLength: Math.max(0, (schema.minLength ?? 0) - 1),
        maxLength: (schema.maxLength ?? 60) + 2,
      });
    }
  } else if (type === 'integer' || type === 'number') {
    const min = schema.minimum ?? -1_000_000;
    const max = schema.maximum ?? 1_000_000;
    typed =
      type === 'integer'
        ? fc.integer({ min: min - 2, max: max + 2 })
        : fc.double({ min: min - 2, max: max + 2 });
  } else if (type === 'boolean') {
    typed = fc.boolean();
  } else if (type === 'array') {
    typed = fc.array(valueFor(ctx, schema.items, depth + 1), { maxLength: 4 });
  } else if (type === 'object' || schema.properties) {
    typed = objectFor(ctx, schema, depth + 1);
  } else {
    return wildValue;
  }
  return fc.oneof({ arbitrary: typed, weight: 5 }, { arbitrary: wildValue, weight: 1 });
}

/** Objects with some of the schema's properties (typed, mostly), sometimes with strangers. */
function objectFor(
  ctx: FuzzContext,
  schema: SchemaObject,
  depth: number,
): fc.Arbitrary<Record<string, unknown>> {
  const props = schema.properties ?? {};
  const model = Object.fromEntries(
    Object.entries(props).map(([k, s]) => {
      const samples = ctx.samples?.[k];
      const generated = valueFor(ctx, s, depth);
      return [
        k,
        samples?.length
          ? fc.oneof(
              { arbitrary: fc.constantFrom(...samples), weight: 4 },
              { arbitrary: generated, weight: 1 },
            )
          : generated,
      ];
    }),
  );
  return fc
    .tuple(
      fc.record(model, { requiredKeys: [] }),
      fc.option(fc.dictionary(fc.string({ maxLength: 12 }), wildValue, { maxKeys: 3 }), {
        freq: 4,
      }),
    )
    .map(([known, extra]) => ({ ...(extra ?? {}), ...known }));
}

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=utf-16',
  'application/json; charset=latin1',
  'text/plain',
  'text/csv',
  'application/xml',
  'application/x-www-form-urlencoded',
  'multipart/form-data',
  'multipart/form-data; boundary=',
  'application/octet-stream',
  'application/vnd.api+json',
  'application/problem+json',
  '*/*',
  ';;;',
  'application/json, text/plain',
];

function multipart(boundary: string, filename: string, content: Buffer, field = 'file'): Buffer {
  return Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${filename}"\r\n` +
        `Content-Type: application/octet-stream\r\n\r\n`,
    ),
    content,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
}

/** A body and its content type: shaped like the schema, random JSON, broken JSON, or worse. */
function bodyFor(
  ctx: FuzzContext,
  op: Operation,
): fc.Arbitrary<{ type?: string; body?: string | Buffer }> {
  const jsonSchema = op.bodies['application/json'];
  const json = (v: unknown) => ({ type: 'application/json', body: JSON.stringify(v) ?? 'null' });
  const shaped = jsonSchema
    ? valueFor(ctx, jsonSchema).map(json)
    : fc.jsonValue({ maxDepth: 3 }).map(json);
  const csvRow = fc.array(text, { maxLength: 8 }).map((cells) => cells.join(','));
  const csv = fc
    .array(csvRow, { maxLength: 20 })
    .map((rows) => ['name,email,role,organization,state', ...rows].join('\n'));
  const files = fc.oneof(
    csv.map((c) => ['users.csv', Buffer.from(c)] as const),
    fc.uint8Array({ maxLength: 2000 }).map((b) => ['users.xlsx', Buffer.from(b)] as const),
    fc
      .uint8Array({ maxLength: 500 })
      .map(
        (b) => ['users.xlsx', Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.from(b)])] as const,
      ),
    text.map((t) => [t.slice(0, 60), Buffer.from(t)] as const),
  );
  const multipartBody = fc
    .tuple(files, fc.constantFrom('file', 'upload', ''))
    .map(([[name, content], field]) => ({
      type: 'multipart/form-data; boundary=relbnd',
      body: multipart('relbnd', name, content, field),
    }));
  const depth = fc.integer({ min: 100, max: 20_000 });
  return fc.oneof(
    { arbitrary: shaped, weight: 6 },
    { arbitrary: fc.jsonValue({ maxDepth: 3 }).map(json), weight: 2 },
    { arbitrary: multipartBody, weight: op.bodies['multipart/form-data'] ? 4 : 1 },
    {
      // Broken JSON: a valid document cut short, or plain text.
      arbitrary: fc.tuple(shaped, fc.nat()).map(([b, cut]) => ({
        type: 'application/json',
        body: String(b.body).slice(0, cut % Math.max(1, String(b.body).length)),
      })),
      weight: 2,
    },
    { arbitrary: text.map((t) => ({ type: 'application/json', body: t })), weight: 1 },
    {
      arbitrary: fc
        .constantFrom(
          '{"__proto__":{"role":"ADM"}}',
          '{"constructor":{"prototype":{"role":"ADM"}}}',
          '{"a":1,"a":2}',
          '[]',
          '"string"',
          '1e999',
          '\uFEFF{}',
          '{"email":{"$ne":null}}',
        )
        .map((body) => ({ type: 'application/json', body })),
      weight: 1,
    },
    {
      // Deeply nested arrays and objects.
      arbitrary: fc.tuple(depth, fc.boolean()).map(([n, arr]) => ({
        type: 'application/json',
        body: arr ? '['.repeat(n) + ']'.repeat(n) : '{"a":'.repeat(n) + '1' + '}'.repeat(n),
      })),
      weight: 1,
    },
    {
      // The right body under the wrong content type, or no content type at all.
      arbitrary: fc
        .tuple(shaped, fc.option(fc.constantFrom(...CONTENT_TYPES)))
        .map(([b, type]) => ({ type: type ?? undefined, body: b.body })),
      weight: 2,
    },
    { arbitrary: fc.constant({ type: 'application/json', body: '' }), weight: 1 },
  );
}

function queryFor(op: Operation): fc.Arbitrary<string> {
  const documented = op.query.map((p) => p.name);
  const key = fc.oneof(
    { arbitrary: fc.constantFrom(...(documented.length ? documented : ['limit'])), weight: 4 },
    {
      arbitrary: fc.constantFrom(
        'limit',
        'offset',
        'sort',
        'order',
        '__proto__',
        'a[b]',
        'limit[]',
        'where',
      ),
      weight: 1,
    },
    { arbitrary: fc.string({ maxLength: 10 }), weight: 1 },
  );
  const value = fc.oneof(
    fc.constantFrom(
      '',
      '-1',
      '0',
      '1',
      '100',
      '101',
      '1e3',
      '1.5',
      '9999999999999999999',
      'NaN',
      'true',
      'null',
      "'",
      ';DROP TABLE users',
    ),
    fc.integer().map(String),
    text,
  );
  return fc
    .array(fc.tuple(key, value), { maxLength: 6 })
    .map((pairs) =>
      pairs.length
        ? '?' + pairs.map(([k, v]) => `${encodeComponent(k)}=${encodeComponent(v)}`).join('&')
        : '',
    );
}

function pathFor(ctx: FuzzContext, op: Operation): fc.Arbitrary<string> {
  const segment = fc.oneof(
    { arbitrary: fc.uuid(), weight: 2 },
    { arbitrary: fc.constantFrom(...(ctx.knownIds.length ? ctx.knownIds : ['me'])), weight: 2 },
    { arbitrary: text.map(encodeComponent), weight: 3 },
    { arbitrary: fc.constantFrom(...NASTY_SEGMENTS), weight: 2 },
  );
  const values = fc.tuple(...op.pathParams.map(() => segment));
  const suffix = fc.constantFrom('', '', '', '', '/', '//', '/extra', '?', '#x', ';x');
  return fc.tuple(values, suffix).map(([vals, end]) => {
    let i = 0;
    return op.path.replace(/\{[^}]+\}/g, () => vals[i++] ?? '') + end;
  });
}

const ALL_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];

/** One random request aimed at an operation of the OpenAPI document. */
export function requestFor(ctx: FuzzContext, op: Operation): fc.Arbitrary<RequestSpec> {
  const method = fc.oneof(
    { arbitrary: fc.constant(op.method), weight: 8 },
    { arbitrary: fc.constantFrom(...ALL_METHODS), weight: 1 },
  );
  const authorization = fc.constantFrom(...ctx.authorizations);
  const extraHeaders = fc.option(
    fc.constantFrom<Record<string, string>>(
      { accept: 'application/xml' },
      { accept: 'text/html' },
      { 'accept-encoding': 'gzip, br' },
      { 'x-request-id': 'a'.repeat(300) },
      { 'x-forwarded-for': 'not an ip' },
      { 'content-encoding': 'gzip' },
      { range: 'bytes=0-1' },
      { 'if-none-match': '*' },
    ),
    { freq: 3 },
  );
  return fc
    .tuple(
      method,
      pathFor(ctx, op),
      queryFor(op),
      authorization,
      bodyFor(ctx, op),
      fc.boolean(),
      extraHeaders,
    )
    .map(([m, path, query, auth, { type, body }, sendBody, extra]) => {
      const headers: Record<string, string> = { ...(extra ?? {}) };
      if (auth !== undefined) headers.authorization = auth;
      const withBody = ['POST', 'PUT', 'PATCH'].includes(m) || sendBody;
      if (withBody && type !== undefined) headers['content-type'] = type;
      return {
        method: m,
        path: path + query,
        headers,
        body: withBody ? body : undefined,
        timeoutMs: 15_000,
      };
    });
}

/** Random paths that are not routes, under random methods. */
export function strayRequest(ctx: FuzzContext): fc.Arbitrary<RequestSpec> {
  const segment = fc.oneof(
    text.map(encodeComponent),
    fc.constantFrom(...NASTY_SEGMENTS),
    fc.uuid(),
  );
  return fc
    .tuple(
      fc.constantFrom(...ALL_METHODS),
      fc.array(segment, { minLength: 1, maxLength: 6 }),
      fc.constantFrom(...ctx.authorizations),
    )
    .map(([method, segments, auth]) => {
      const headers: Record<string, string> = {};
      if (auth) headers.authorization = auth;
      return { method, path: '/' + segments.join('/'), headers, timeoutMs: 15_000 };
    });
}

/**
 * A request that reaches the route's guards: the operation's own method, every path id a UUID,
 * documented-or-odd query parameters, and (for POST, PUT, PATCH) a JSON body shaped by the
 * schema. What it must answer is the caller's business (e.g. 403 for an unapproved account).
 */
export function wellFormedRequestFor(
  ctx: FuzzContext,
  op: Operation,
  authorization: string,
): fc.Arbitrary<RequestSpec> {
  const ids = fc.tuple(
    ...op.pathParams.map(() =>
      fc.oneof(fc.uuid(), fc.constantFrom(...(ctx.knownIds.length ? ctx.knownIds : ['x']))),
    ),
  );
  const jsonSchema = op.bodies['application/json'];
  const body = jsonSchema ? valueFor(ctx, jsonSchema) : fc.jsonValue({ maxDepth: 2 });
  return fc.tuple(ids, queryFor(op), body).map(([vals, query, value]) => {
    let i = 0;
    const path = op.path.replace(/\{[^}]+\}/g, () => vals[i++] ?? '') + query;
    const withBody = ['POST', 'PUT', 'PATCH'].includes(op.method);
    return {
      method: op.method,
      path,
      headers: {
        authorization,
        ...(withBody ? { 'content-type': 'application/json' } : {}),
      },
      body: withBody ? (JSON.stringify(value) ?? 'null') : undefined,
      timeoutMs: 15_000,
    };
  });
}

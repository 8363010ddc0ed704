import Fastify, { FastifyReply, FastifyRequest } from 'fastify';
import * as jwt from 'jsonwebtoken';
import { createSecretKey } from 'node:crypto';
import { Pool } from 'pg';

/**
 * The benchmark's baseline: a bare Fastify + pg server answering the first page of GET /warnings
 * and of the ADM's GET /booking-requests (`limit + 1` rows in the list's order, no count, as the
 * app's keyset pages do; the warnings rule in its plain one-statement form), after the same
 * authentication work as the app's guard: verify the HS256 token (exp enforced), then re-read
 * the user by id and check token_version and the active flag. No Nest, no ORM, no validation
 * pipe, no helmet, no request ids: what is left of the app's cost is the database's. Its
 * next_cursor is its own (the run compares the items only).
 *
 * Environment: PORT, HOST, DATABASE_URL, JWT_SECRET, DATABASE_POOL_SIZE (10, like the app).
 */

const USER_SQL =
  'SELECT id, email, role, organization, active, token_version FROM users WHERE id = $1';

// WarningsService.list's statements, as it builds them for each kind of caller.
const WARNING_SELECT =
  'SELECT id, title, description, target_role, target_org, expires_at, created_by, created_at ' +
  'FROM warnings WHERE ';
const WARNING_WHERE_ALL = 'expires_at > $1';
const WARNING_WHERE_AUDIENCE =
  'expires_at > $1 AND target_role = $2 AND (target_org IS NULL OR target_org = $3 OR ' +
  'target_org = $4)';
const WARNING_WHERE_AUDIENCE_NO_ORG =
  'expires_at > $1 AND target_role = $2 AND (target_org IS NULL OR target_org = $3)';
const WARNING_ORDER = ' ORDER BY created_at DESC, id DESC';

const BOOKING_COLUMNS =
  'SELECT "b"."id" AS "b_id", "b"."event_time" AS "b_event_time", ' +
  '"b"."duration_minutes" AS "b_duration_minutes", "b"."topic" AS "b_topic", ' +
  '"b"."address_street" AS "b_address_street", "b"."address_city" AS "b_address_city", ' +
  '"b"."address_state" AS "b_address_state", "b"."address_country" AS "b_address_country", ' +
  '"b"."requested_by" AS "b_requested_by", "b"."requester_email" AS "b_requester_email", ' +
  '"b"."status" AS "b_status", "b"."reason" AS "b_reason", "b"."decided_by" AS "b_decided_by", ' +
  '"b"."decided_at" AS "b_decided_at", "b"."created_at" AS "b_created_at", ' +
  '"b"."updated_at" AS "b_updated_at" FROM "booking_requests" "b"';
const BOOKING_ORDER = ' ORDER BY "b"."created_at" DESC, "b"."id" DESC';

interface Caller {
  id: string;
  email: string;
  role: string;
  organization: string | null;
}

type Row = Record<string, unknown>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const BEARER = /^Bearer\s+([A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+)\s*$/i;

function env(name: string, fallback?: string): string {
  const value = process.env[name] ?? fallback;
  if (value === undefined || value === '') throw new Error(`${name} is required`);
  return value;
}

function pageLimit(query: unknown): number {
  const q = (query ?? {}) as Record<string, string | undefined>;
  const limit = q.limit === undefined ? 20 : Number(q.limit);
  return Number.isInteger(limit) && limit >= 1 && limit <= 100 ? limit : 20;
}

/** Rows past `limit` mean a next page; the baseline's cursor is the last row's id (unused). */
function pageOf(rows: Row[], limit: number): { rows: Row[]; next_cursor: string | null } {
  return rows.length > limit
    ? {
        rows: rows.slice(0, limit),
        next_cursor: String(rows[limit - 1].id ?? rows[limit - 1].b_id),
      }
    : { rows, next_cursor: null };
}

function iso(value: unknown): string | null {
  return value instanceof Date ? value.toISOString() : null;
}

async function main(): Promise<void> {
  // Made once, as the app does (a string secret costs jsonwebtoken a failed PEM parse per call).
  const secret = createSecretKey(Buffer.from(env('JWT_SECRET'), 'utf8'));
  const pool = new Pool({
    connectionString: env('DATABASE_URL'),
    max: Number(env('DATABASE_POOL_SIZE', '10')),
    connectionTimeoutMillis: 3000,
    statement_timeout: 10_000,
    application_name: 'portal-api-bench-baseline',
  });

  async function authenticate(req: FastifyRequest, reply: FastifyReply): Promise<Caller | null> {
    const match = BEARER.exec(req.headers.authorization ?? '');
    if (!match) {
      await reply.code(401).send({ status: 401, title: 'Unauthorized' });
      return null;
    }
    let claims: jwt.JwtPayload;
    try {
      claims = jwt.verify(match[1], secret, { algorithms: ['HS256'] }) as jwt.JwtPayload;
    } catch {
      await reply.code(401).send({ status: 401, title: 'Unauthorized' });
      return null;
    }
    const sub = claims.sub;
    const tokenVersion: unknown = claims.token_version;
    if (typeof claims.exp !== 'number' || typeof sub !== 'string' || !UUID.test(sub)) {
      await reply.code(401).send({ status: 401, title: 'Unauthorized' });
      return null;
    }
    const { rows } = await pool.query<Row>(USER_SQL, [sub]);
    const user = rows[0];
    if (!user || user.token_version !== tokenVersion || user.active !== 'ACTIVE') {
      await reply.code(401).send({ status: 401, title: 'Unauthorized' });
      return null;
    }
    return {
      id: user.id as string,
      email: user.email as string,
      role: user.role as string,
      organization: user.organization as string | null,
    };
  }

  const app = Fastify({ logger: false, keepAliveTimeout: 65_000 });

  app.get('/ping', (_req, reply) => reply.send({ status: 'ok' }));

  app.get('/warnings', async (req, reply) => {
    const caller = await authenticate(req, reply);
    if (!caller) return reply;
    const limit = pageLimit(req.query);
    const now = new Date();
    // As the app: an ADM sees every unexpired warning; anyone else those for their role and
    // for no organization, ALL, or theirs (that last term only when they have one).
    let where = WARNING_WHERE_ALL;
    const params: unknown[] = [now];
    if (caller.role !== 'ADM') {
      where = caller.organization ? WARNING_WHERE_AUDIENCE : WARNING_WHERE_AUDIENCE_NO_ORG;
      params.push(caller.role, 'ALL');
      if (caller.organization) params.push(caller.organization);
    }
    const n = params.length;
    const result = await pool.query<Row>(
      `${WARNING_SELECT}${where}${WARNING_ORDER} LIMIT $${n + 1}`,
      [...params, limit + 1],
    );
    const page = pageOf(result.rows, limit);
    return {
      items: page.rows.map((w) => ({
        id: w.id,
        title: w.title,
        description: w.description,
        target_role: w.target_role,
        target_org: w.target_org,
        expires_at: iso(w.expires_at),
        created_by: w.created_by,
        created_at: iso(w.created_at),
      })),
      next_cursor: page.next_cursor,
    };
  });

  app.get('/booking-requests', async (req, reply) => {
    const caller = await authenticate(req, reply);
    if (!caller) return reply;
    if (caller.role !== 'ADM') {
      // The baseline only serves the ADM's unfiltered list, the benchmarked read.
      return reply.code(501).send({ status: 501, title: 'Not Implemented' });
    }
    const limit = pageLimit(req.query);
    const result = await pool.query<Row>(`${BOOKING_COLUMNS}${BOOKING_ORDER} LIMIT $1`, [
      limit + 1,
    ]);
    const page = pageOf(result.rows, limit);
    return {
      items: page.rows.map((b) => ({
        id: b.b_id,
        event_time: iso(b.b_event_time),
        duration_minutes: b.b_duration_minutes,
        topic: b.b_topic,
        address: {
          street: b.b_address_street,
          city: b.b_address_city,
          state: b.b_address_state,
          country: b.b_address_country,
        },
        requested_by: b.b_requested_by,
        requester_email: b.b_requester_email,
        status: b.b_status,
        reason: b.b_reason,
        decided_by: b.b_decided_by,
        decided_at: iso(b.b_decided_at),
        created_at: iso(b.b_created_at),
        updated_at: iso(b.b_updated_at),
      })),
      next_cursor: page.next_cursor,
    };
  });

  const shutdown = () => {
    void app
      .close()
      .then(() => pool.end())
      .then(() => process.exit(0));
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);

  await app.listen({ port: Number(env('PORT', '3100')), host: env('HOST', '127.0.0.1') });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

import { decodeCursor, encodeCursor, fingerprint, ListOrder, SortKey } from './cursor';
import { compile, join, raw, Sql, sql, Statement } from './sql';

/**
 * One keyset-paged list: what it selects, from where, which rows the caller may see (and the
 * filters), and in which order. Services build it; `fetchPage` runs it; the plan test
 * (test/list-plans.e2e-spec.ts) EXPLAINs the very statements `pageStatement` makes from it.
 */
export interface KeysetQuery {
  order: ListOrder;
  /** Trusted select list (no request input), e.g. raw('id, title'). */
  select: Sql;
  /** Trusted table expression, e.g. raw('warnings'). */
  from: Sql;
  /**
   * The rows: the union of these branches, each the AND of its conditions. Branches must be
   * disjoint (no row in two). One branch is the usual case; several let a rule with an OR
   * (a warning for no organization, ALL or mine) read each part through its own index, in
   * order, and merge them: a page then reads about `limit` rows instead of every match.
   * No branch at all: nothing is visible. `[[]]`: every row.
   */
  branches: Sql[][];
  /**
   * Whatever else decides the rows (the caller's visibility, the filters), as plain data: a
   * cursor made under another context is refused.
   */
  context: unknown;
}

export interface PageRequest {
  limit: number;
  cursor?: string;
  count?: boolean;
}

/** A page of any list: `next_cursor` null on the last page; `total` only when asked. */
export interface Page<T> {
  items: T[];
  next_cursor: string | null;
  total?: number;
}

/** Anything with TypeORM's DataSource.query / EntityManager.query signature. */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<unknown>;
}

const CURSOR_COLUMN = '__cursor_';

const PG_CAST: Record<SortKey['type'], string> = {
  timestamptz: 'timestamptz',
  uuid: 'uuid',
  text: 'text',
};

/** The key part as the cursor carries it: text, timestamps in UTC at microsecond precision. */
function cursorText(key: SortKey): string {
  switch (key.type) {
    case 'timestamptz':
      return `to_char(${key.expr} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
    case 'uuid':
      return `${key.expr}::text`;
    case 'text':
      return key.expr;
  }
}

function orderBy(order: ListOrder): Sql {
  return raw(order.keys.map((k) => `${k.expr} ${order.direction}`).join(', '));
}

/**
 * Rows strictly after the cursor's key in the list's order, compared in SQL as one row value
 * against the key's own text cast back to its type: PostgreSQL's microseconds never pass
 * through a JavaScript Date, so no row is skipped or repeated, ties on created_at included.
 * The row comparison is an index condition on an index that has the keys as its columns.
 */
function afterKey(order: ListOrder, after: readonly string[]): Sql {
  const columns = raw(order.keys.map((k) => k.expr).join(', '));
  const op = raw(order.direction === 'DESC' ? '<' : '>');
  const values = join(
    order.keys.map((k, i) => sql`${after[i]}::${raw(PG_CAST[k.type])}`),
    ', ',
  );
  return sql`(${columns}) ${op} (${values})`;
}

function where(conditions: readonly Sql[]): Sql {
  return conditions.length === 0 ? raw('') : sql` WHERE ${join(conditions, ' AND ')}`;
}

/**
 * The page's statement: `fetch` rows after `after` (null: from the start). With several
 * branches, each is read in order through its own index and limited, and the branches are
 * merged (Merge Append) and limited again.
 */
export function pageStatement(
  q: KeysetQuery,
  after: readonly string[] | null,
  fetch: number,
): Statement {
  if (q.branches.length === 0) throw new Error('pageStatement: no branch (nothing is visible)');
  const cursorColumns = raw(
    q.order.keys.map((k, i) => `${cursorText(k)} AS ${CURSOR_COLUMN}${i}`).join(', '),
  );
  const order = orderBy(q.order);
  const branch = (conditions: readonly Sql[]): Sql => {
    const all = after ? [...conditions, afterKey(q.order, after)] : [...conditions];
    return sql`SELECT ${q.select}, ${cursorColumns} FROM ${q.from}${where(all)} ORDER BY ${order} LIMIT ${fetch}`;
  };
  if (q.branches.length === 1) return compile(branch(q.branches[0]));
  for (const k of q.order.keys) {
    if (!/^[a-z_][a-z0-9_]*$/.test(k.expr)) {
      throw new Error(`pageStatement: a list of several branches sorts by columns (${k.expr})`);
    }
  }
  const parts = join(
    q.branches.map((b) => sql`(${branch(b)})`),
    ' UNION ALL ',
  );
  return compile(sql`SELECT * FROM (${parts}) AS page ORDER BY ${order} LIMIT ${fetch}`);
}

/** The exact number of rows the list holds (every branch, no cursor). */
export function countStatement(q: KeysetQuery): Statement {
  if (q.branches.length === 0) return compile(raw('SELECT 0 AS n'));
  const parts = q.branches.map((b) => (b.length === 0 ? raw('TRUE') : sql`(${join(b, ' AND ')})`));
  const filter = parts.length === 1 ? parts[0] : sql`(${join(parts, ' OR ')})`;
  return compile(sql`SELECT count(*) AS n FROM ${q.from} WHERE ${filter}`);
}

type Row = Record<string, unknown>;

/**
 * Runs one page of a list: checks the cursor against the list and its context, reads `limit +
 * 1` rows (so the last page says so: no cursor that leads to an empty page), and counts only
 * when asked. The rows come back as the database gave them, without the cursor columns.
 */
export async function fetchPage<T extends Row = Row>(
  db: Queryable,
  q: KeysetQuery,
  request: PageRequest,
): Promise<Page<T>> {
  const print = fingerprint(q.order.list, q.context);
  const after = request.cursor === undefined ? null : decodeCursor(request.cursor, q.order, print);
  if (q.branches.length === 0) {
    return request.count
      ? { items: [], next_cursor: null, total: 0 }
      : { items: [], next_cursor: null };
  }
  const page = pageStatement(q, after, request.limit + 1);
  const count = request.count ? countStatement(q) : undefined;
  const [rows, counted] = await Promise.all([
    db.query(page.text, page.values) as Promise<Row[]>,
    count
      ? (db.query(count.text, count.values) as Promise<Array<{ n: string | number }>>)
      : undefined,
  ]);
  const more = rows.length > request.limit;
  const kept = more ? rows.slice(0, request.limit) : rows;
  let next: string | null = null;
  if (more) {
    const last = kept[kept.length - 1];
    next = encodeCursor(
      q.order.list,
      print,
      q.order.keys.map((_, i) => String(last[`${CURSOR_COLUMN}${i}`])),
    );
  }
  for (const row of kept) q.order.keys.forEach((_, i) => delete row[`${CURSOR_COLUMN}${i}`]);
  const items = kept as T[];
  return counted
    ? { items, next_cursor: next, total: Number(counted[0].n) }
    : { items, next_cursor: next };
}

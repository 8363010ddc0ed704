import { compile, join, raw, sql } from './sql';

describe('sql', () => {
  it('numbers values in order, through nested fragments, and never inlines them', () => {
    const inner = sql`b = ${2} OR c = ${"3'; DROP TABLE users; --"}`;
    const s = compile(sql`SELECT * FROM t WHERE a = ${1} AND (${inner}) LIMIT ${10}`);
    expect(s.text).toBe('SELECT * FROM t WHERE a = $1 AND (b = $2 OR c = $3) LIMIT $4');
    expect(s.values).toEqual([1, 2, "3'; DROP TABLE users; --", 10]);
  });

  it('joins fragments with a separator; raw is inlined as text', () => {
    const parts = [sql`x = ${'a'}`, raw('y IS NULL'), sql`z = ${null}`];
    expect(compile(sql`WHERE ${join(parts, ' AND ')}`)).toEqual({
      text: 'WHERE x = $1 AND y IS NULL AND z = $2',
      values: ['a', null],
    });
    expect(compile(join([], ' AND '))).toEqual({ text: '', values: [] });
  });

  it('keeps the same value object as two parameters when used twice', () => {
    const now = new Date(0);
    const live = sql`expires_at > ${now}`;
    expect(compile(sql`(${live}) UNION ALL (${live})`)).toEqual({
      text: '(expires_at > $1) UNION ALL (expires_at > $2)',
      values: [now, now],
    });
  });
});

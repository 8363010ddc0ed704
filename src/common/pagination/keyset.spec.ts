import { countStatement, KeysetQuery, pageStatement } from './keyset';
import { raw, sql } from './sql';

const base: Omit<KeysetQuery, 'branches'> = {
  order: {
    list: 'things',
    keys: [
      { expr: 'created_at', type: 'timestamptz' },
      { expr: 'id', type: 'uuid' },
    ],
    direction: 'DESC',
  },
  select: raw('id, title'),
  from: raw('things'),
  context: {},
};
const AFTER = ['2030-01-01T00:00:00.000001Z', '0f8fad5b-d9cb-469f-a165-70867728950e'];

describe('keyset statements', () => {
  it('one branch: the conditions, the key after the cursor as one row value, limit', () => {
    const s = pageStatement({ ...base, branches: [[sql`kind = ${'a'}`]] }, AFTER, 21);
    expect(s.text).toBe(
      'SELECT id, title, ' +
        `to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS __cursor_0, ` +
        'id::text AS __cursor_1 FROM things WHERE kind = $1 AND (created_at, id) < ' +
        '($2::timestamptz, $3::uuid) ORDER BY created_at DESC, id DESC LIMIT $4',
    );
    expect(s.values).toEqual(['a', ...AFTER, 21]);
  });

  it('no condition and no cursor: no WHERE', () => {
    const s = pageStatement({ ...base, branches: [[]] }, null, 5);
    expect(s.text).toMatch(/FROM things ORDER BY created_at DESC, id DESC LIMIT \$1$/);
    expect(s.values).toEqual([5]);
  });

  it('several branches: each limited in order, merged and limited again', () => {
    const s = pageStatement(
      { ...base, branches: [[raw('org IS NULL')], [sql`org = ${'ALL'}`]] },
      AFTER,
      3,
    );
    expect(s.text).toMatch(
      /^SELECT \* FROM \(\(SELECT .* WHERE org IS NULL AND \(created_at, id\) < \(\$1::timestamptz, \$2::uuid\) ORDER BY created_at DESC, id DESC LIMIT \$3\) UNION ALL \(SELECT .* WHERE org = \$4 AND .* LIMIT \$7\)\) AS page ORDER BY created_at DESC, id DESC LIMIT \$8$/,
    );
    expect(s.values).toEqual([...AFTER, 3, 'ALL', ...AFTER, 3, 3]);
  });

  it('several branches need plain column keys (the merge sorts by output columns)', () => {
    const q: KeysetQuery = {
      ...base,
      order: { ...base.order, keys: [{ expr: 'lower(name)', type: 'text' }, base.order.keys[1]] },
      branches: [[], []],
    };
    expect(() => pageStatement(q, null, 2)).toThrow(/sorts by columns/);
    expect(() => pageStatement({ ...base, branches: [] }, null, 2)).toThrow(/no branch/);
  });

  it('counts every branch, without the cursor', () => {
    expect(countStatement({ ...base, branches: [[]] }).text).toBe(
      'SELECT count(*) AS n FROM things WHERE TRUE',
    );
    const s = countStatement({ ...base, branches: [[raw('a')], [sql`b = ${1}`, raw('c')]] });
    expect(s).toEqual({
      text: 'SELECT count(*) AS n FROM things WHERE ((a) OR (b = $1 AND c))',
      values: [1],
    });
    expect(countStatement({ ...base, branches: [] }).text).toBe('SELECT 0 AS n');
  });
});

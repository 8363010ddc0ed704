import { DatabaseError } from 'pg';
import { QueryFailedError } from 'typeorm';
import { isDatabaseUnavailable, toProblem } from './problem-details.filter';

function pgError(message: string, code: string): DatabaseError {
  const err = new DatabaseError(message, message.length, 'error');
  err.code = code;
  return err;
}

function errno(message: string, code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code, errno: -1, syscall: 'connect' });
}

const SQL = 'SELECT "User"."id" FROM "users" "User" WHERE "User"."id" = $1';

/**
 * The errors below are the ones the reliability suite (test/reliability) saw from a real app
 * process while its PostgreSQL restarted, its pool ran dry and its queries were cancelled.
 */
describe('toProblem: the database going away is a 503, never a 500', () => {
  const unavailable: Array<[string, unknown]> = [
    [
      'the server refuses connections (down)',
      errno('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'),
    ],
    ['a socket reset mid-query', errno('read ECONNRESET', 'ECONNRESET')],
    ['57P03 while it shuts down', pgError('the database system is shutting down', '57P03')],
    ['57P03 while it starts', pgError('the database system is starting up', '57P03')],
    [
      '57P01 fast shutdown, wrapped by TypeORM',
      new QueryFailedError(
        SQL,
        [],
        pgError('terminating connection due to administrator command', '57P01'),
      ),
    ],
    [
      'the connection dropped, wrapped by TypeORM (no code)',
      new QueryFailedError(SQL, [], new Error('Connection terminated unexpectedly')),
    ],
    [
      '57014 statement_timeout',
      new QueryFailedError(
        SQL,
        [],
        pgError('canceling statement due to statement timeout', '57014'),
      ),
    ],
    [
      'pg-pool: no free client within connectionTimeoutMillis',
      new Error('timeout exceeded when trying to connect'),
    ],
    ['pg: connect timeout', new Error('Connection terminated due to connection timeout')],
    ['the pool was ended (shutdown)', new Error('Cannot use a pool after calling end on the pool')],
    ['53300 too many connections', pgError('sorry, too many clients already', '53300')],
  ];

  it.each(unavailable)('%s', (_name, err) => {
    expect(isDatabaseUnavailable(err)).toBe(true);
    const { body } = toProblem(err);
    expect(body).toEqual({
      type: 'urn:portal-api:problem:database_unavailable',
      title: 'Service Unavailable',
      status: 503,
      detail: 'The database is unavailable; try again shortly.',
    });
  });
});

describe('toProblem: client-side failures stay 4xx', () => {
  it('a request the client aborted mid-body (ECONNRESET with statusCode 400) is a 400, not a database outage', () => {
    const aborted = Object.assign(new Error('aborted'), { code: 'ECONNRESET', statusCode: 400 });
    expect(isDatabaseUnavailable(aborted)).toBe(false);
    expect(toProblem(aborted).body).toMatchObject({ status: 400, title: 'Bad Request' });
  });

  it('fastify router errors carry their status: 400 bad URL, 414 over-long parameter', () => {
    const badUrl = Object.assign(new Error("'/%FF' is not a valid url component"), {
      code: 'FST_ERR_BAD_URL',
      statusCode: 400,
    });
    expect(toProblem(badUrl).body).toEqual({
      type: 'urn:portal-api:problem:bad_request',
      title: 'Bad Request',
      status: 400,
      detail: "'/%FF' is not a valid url component",
    });
    const tooLong = Object.assign(new Error('too long'), {
      code: 'FST_ERR_MAX_PARAM_LENGTH',
      statusCode: 414,
    });
    expect(toProblem(tooLong).body).toMatchObject({
      type: 'urn:portal-api:problem:uri_too_long',
      title: 'URI Too Long',
      status: 414,
    });
  });

  it('an unknown error is a 500 without its message or stack', () => {
    const { body } = toProblem(new TypeError('secret internals at x.js:1:2'));
    expect(body).toEqual({
      type: 'urn:portal-api:problem:internal',
      title: 'Internal Server Error',
      status: 500,
      detail: 'An unexpected error occurred.',
    });
  });
});

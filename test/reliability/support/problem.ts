import type { HttpResult } from './http';

/** A stack frame as Node prints it ("at fn (/app/dist/x.js:12:3)") or a bare "file.ts:12". */
export const STACK_TRACE =
  /\bat\s[^\n]{0,300}\.(?:js|ts|mjs|cjs):\d+|\n\s+at\s+\S+\s+\(|\.(?:js|ts):\d+:\d+/;
/** What a leaked driver or SQL error looks like. */
export const SQL_LEAK =
  /QueryFailedError|syntax error at or near|violates (?:unique|foreign key|check) constraint|relation "[^"]+" does not exist|invalid input syntax for type/i;

export const PROBLEM_TYPE = /^urn:portal-api:problem:[a-z0-9_]+$/;

/**
 * Every way the answer breaks the error contract (RFC 9457 problem+json, no 500, no stack trace,
 * no SQL); an empty list means it is fine. `allow5xx` lists the 5xx statuses the scenario expects.
 */
export function contractViolations(res: HttpResult, allow5xx: number[] = []): string[] {
  const problems: string[] = [];
  const where = `${res.method} ${res.path.slice(0, 200)} -> ${res.status}`;
  if (res.status <= 0) {
    problems.push(`${where}: no answer (${res.error})`);
    return problems;
  }
  if (res.status >= 500 && !allow5xx.includes(res.status)) {
    problems.push(`${where}: server error ${res.text.slice(0, 300)}`);
  }
  if (STACK_TRACE.test(res.text))
    problems.push(`${where}: stack trace in body ${res.text.slice(0, 300)}`);
  if (SQL_LEAK.test(res.text)) problems.push(`${where}: SQL in body ${res.text.slice(0, 300)}`);
  if (res.status >= 400 && res.method !== 'HEAD') {
    const type = String(res.headers['content-type'] ?? '');
    if (!/^application\/problem\+json\b/.test(type)) {
      problems.push(`${where}: content-type "${type}" is not application/problem+json`);
    }
    let body: Record<string, unknown> | undefined;
    try {
      body = JSON.parse(res.text) as Record<string, unknown>;
    } catch {
      problems.push(`${where}: body is not JSON: ${res.text.slice(0, 200)}`);
    }
    if (body) {
      if (typeof body.type !== 'string' || !PROBLEM_TYPE.test(body.type)) {
        problems.push(`${where}: problem type ${JSON.stringify(body.type)}`);
      }
      if (typeof body.title !== 'string' || body.title.length === 0) {
        problems.push(`${where}: problem title missing`);
      }
      if (body.status !== res.status) {
        problems.push(`${where}: problem status ${JSON.stringify(body.status)}`);
      }
      if (typeof body.detail !== 'string') problems.push(`${where}: problem detail missing`);
      if (
        body.errors !== undefined &&
        !(
          Array.isArray(body.errors) &&
          body.errors.every(
            (e: { field?: unknown; message?: unknown }) =>
              typeof e?.field === 'string' && typeof e?.message === 'string',
          )
        )
      ) {
        problems.push(`${where}: problem errors is not [{field, message}]`);
      }
    }
  }
  return problems;
}

/** A 503 the scenario expects while the database is away: problem+json, database_unavailable. */
export function isDatabaseUnavailableProblem(res: HttpResult): boolean {
  if (res.status !== 503) return false;
  if (!/^application\/problem\+json\b/.test(String(res.headers['content-type'] ?? '')))
    return false;
  try {
    const body = JSON.parse(res.text) as { type?: string; status?: number };
    return body.type === 'urn:portal-api:problem:database_unavailable' && body.status === 503;
  } catch {
    return false;
  }
}

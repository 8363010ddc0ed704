import type request from 'supertest';

export const PROBLEM_CONTENT_TYPE = /application\/problem\+json/;

/**
 * The answer is an RFC 9457 problem with this status (and stable code, when given), and
 * carries neither a password hash nor a stack trace.
 */
export function expectProblem(res: request.Response, status: number, code?: string): void {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(PROBLEM_CONTENT_TYPE);
  expect(res.body.status).toBe(status);
  if (code) expect(res.body.type).toBe(`urn:portal-api:problem:${code}`);
  expect(JSON.stringify(res.body)).not.toMatch(/\$2[aby]\$|at .*\.ts:\d+/);
}

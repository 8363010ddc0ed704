import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { OPENAPI_FILE_ENV } from './support/openapi';
import type { PgServer } from './support/postgres';

export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __REL_PG__?: PgServer }).__REL_PG__?.dispose();
  const openapi = process.env[OPENAPI_FILE_ENV];
  if (openapi) rmSync(dirname(openapi), { recursive: true, force: true });
}

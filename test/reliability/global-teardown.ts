import type { PgServer } from './support/postgres';

export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __REL_PG__?: PgServer }).__REL_PG__?.dispose();
}

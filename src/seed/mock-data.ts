import { DataSource } from 'typeorm';
import { SeedResult, seedMockUsers } from './mock-users';
import { SeedWarningsResult, seedMockWarnings } from './mock-warnings';

export interface MockDataResult {
  users: SeedResult;
  warnings: SeedWarningsResult;
}

/**
 * The seed (`npm run seed`, and `npm start` on the embedded database): the mock users, then
 * the mock warnings. Idempotent; the password is hashed only when a mock user is missing.
 */
export async function seedMockData(
  dataSource: DataSource,
  options: { passwordHash: () => Promise<string>; now: Date },
): Promise<MockDataResult> {
  const users = await seedMockUsers(dataSource, options.passwordHash);
  const warnings = await seedMockWarnings(dataSource, options.now);
  return { users, warnings };
}

import { DataSource } from 'typeorm';

/**
 * Empties every entity table (not the migrations table) between tests. Identity sequences
 * continue (warning_events ids are stream positions: an app's stream hub that has seen event
 * 40 must never see a new event 1).
 */
export async function truncateAll(dataSource: DataSource): Promise<void> {
  const tables = dataSource.entityMetadatas.map((m) => `"${m.tableName}"`);
  if (tables.length === 0) return;
  await dataSource.query(`TRUNCATE ${tables.join(', ')} CONTINUE IDENTITY CASCADE`);
}

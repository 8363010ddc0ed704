import { DataSource } from 'typeorm';

/**
 * Empties every entity table (not the migrations table) between tests. Identity sequences
 * continue (warning_events ids are stream positions: an app's stream hub that has seen event
 * 40 must never see a new event 1).
 */
export async function truncateAll(dataSource: DataSource): Promise<void> {
  const tables = dataSource.entityMetadatas.map((m) => `"${m.tableName}"`);
  if (tables.length === 0) return;
  // The app under test keeps working in the background (the warning stream's expiry sweep takes
  // locks on warning_stream_state, then warnings): TRUNCATE may lose a deadlock to it. Again.
  for (let attempt = 1; ; attempt++) {
    try {
      await dataSource.query(`TRUNCATE ${tables.join(', ')} CONTINUE IDENTITY CASCADE`);
      return;
    } catch (err) {
      if ((err as { code?: string }).code !== '40P01' || attempt >= 5) throw err;
    }
  }
}

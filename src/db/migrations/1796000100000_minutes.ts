import type { MigrationBuilder } from 'node-pg-migrate';

// The per-table minute when jobs queue in PostgreSQL (no Redis): one row per kind and table (or
// user), holding when the minute ends and who took it. UNLOGGED: a crash empties it, which only
// frees minutes early, and taking one writes no WAL.
export async function up(pgm: MigrationBuilder): Promise<void> {
  pgm.sql(`
    CREATE UNLOGGED TABLE tableport.minutes (
      kind text NOT NULL,
      key bigint NOT NULL,
      holder text NOT NULL,
      ends_at timestamptz NOT NULL,
      PRIMARY KEY (kind, key)
    );
  `);
}

export async function down(pgm: MigrationBuilder): Promise<void> {
  pgm.sql('DROP TABLE IF EXISTS tableport.minutes;');
}

import type { MigrationBuilder } from 'node-pg-migrate';

// Bundle jobs export or import several tables at once: they have no single table (table_id is NULL
// for them), and an import keeps each table's outcome ("" or why it failed) for the status endpoint.
export async function up(pgm: MigrationBuilder): Promise<void> {
  pgm.sql(`
    ALTER TABLE tableport.jobs DROP CONSTRAINT IF EXISTS jobs_type_check;
    ALTER TABLE tableport.jobs ADD CONSTRAINT jobs_type_check CHECK (type IN ('export', 'import', 'bundle_export', 'bundle_import'));
    ALTER TABLE tableport.jobs ALTER COLUMN table_id DROP NOT NULL;
    ALTER TABLE tableport.jobs ADD CONSTRAINT jobs_table_id_check CHECK (table_id IS NOT NULL OR type IN ('bundle_export', 'bundle_import'));
    ALTER TABLE tableport.jobs ADD COLUMN bundle_tables jsonb;
    -- The status endpoint asks for a user's latest bundle import.
    CREATE INDEX jobs_user_type_created_idx ON tableport.jobs (user_id, type, created_at DESC, id DESC);
  `);
}

export async function down(pgm: MigrationBuilder): Promise<void> {
  pgm.sql(`
    DROP INDEX IF EXISTS tableport.jobs_user_type_created_idx;
    DELETE FROM tableport.jobs WHERE type IN ('bundle_export', 'bundle_import');
    ALTER TABLE tableport.jobs DROP COLUMN IF EXISTS bundle_tables;
    ALTER TABLE tableport.jobs DROP CONSTRAINT IF EXISTS jobs_table_id_check;
    ALTER TABLE tableport.jobs ALTER COLUMN table_id SET NOT NULL;
    ALTER TABLE tableport.jobs DROP CONSTRAINT IF EXISTS jobs_type_check;
    ALTER TABLE tableport.jobs ADD CONSTRAINT jobs_type_check CHECK (type IN ('export', 'import'));
  `);
}

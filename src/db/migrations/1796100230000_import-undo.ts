import type { MigrationBuilder } from 'node-pg-migrate';

// Issue 23: an import's outcome beyond its row count (inserted, updated, skipped; a dry run's
// preview) in `result`; the `undo` job kind; and what undoing an import needs, written in the
// import's own transaction: one `import_undo` row per import, whose xmin is the transaction (or
// savepoint) that wrote the import's rows (a row it touched that still has that xmin has not
// changed since; the row is never updated, so its xmin stays); the ids of the rows it inserted, in
// arrays of up to 10,000 (a row per id cost twice the time and four times the space at 1M rows);
// and each row it updated as it was before.
export async function up(pgm: MigrationBuilder): Promise<void> {
  pgm.sql(`
    ALTER TABLE tableport.jobs ADD COLUMN result jsonb;
    ALTER TABLE tableport.jobs DROP CONSTRAINT IF EXISTS jobs_type_check;
    ALTER TABLE tableport.jobs ADD CONSTRAINT jobs_type_check CHECK (type IN ('export', 'import', 'bundle_export', 'bundle_import', 'undo'));
    CREATE TABLE tableport.import_undo (
      job_id     uuid PRIMARY KEY REFERENCES tableport.jobs (id) ON DELETE CASCADE,
      table_id   bigint NOT NULL,
      -- The table's fields when the import ran: an undo after they changed would restore rows of another shape.
      fields     jsonb NOT NULL,
      created_at timestamptz NOT NULL
    );
    CREATE INDEX import_undo_created_idx ON tableport.import_undo (created_at);
    CREATE TABLE tableport.import_undo_inserted (
      job_id  uuid NOT NULL REFERENCES tableport.import_undo (job_id) ON DELETE CASCADE,
      row_ids text[] COLLATE "C" NOT NULL
    );
    CREATE INDEX import_undo_inserted_job_idx ON tableport.import_undo_inserted (job_id);
    CREATE TABLE tableport.import_undo_updated (
      job_id   uuid NOT NULL REFERENCES tableport.import_undo (job_id) ON DELETE CASCADE,
      row_id   text COLLATE "C" NOT NULL,
      previous jsonb NOT NULL
    );
    CREATE INDEX import_undo_updated_job_idx ON tableport.import_undo_updated (job_id);
  `);
}

export async function down(pgm: MigrationBuilder): Promise<void> {
  pgm.sql(`
    DROP TABLE IF EXISTS tableport.import_undo_updated;
    DROP TABLE IF EXISTS tableport.import_undo_inserted;
    DROP TABLE IF EXISTS tableport.import_undo;
    DELETE FROM tableport.jobs WHERE type = 'undo';
    ALTER TABLE tableport.jobs DROP CONSTRAINT IF EXISTS jobs_type_check;
    ALTER TABLE tableport.jobs ADD CONSTRAINT jobs_type_check CHECK (type IN ('export', 'import', 'bundle_export', 'bundle_import'));
    ALTER TABLE tableport.jobs DROP COLUMN IF EXISTS result;
  `);
}

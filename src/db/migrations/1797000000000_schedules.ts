import type { MigrationBuilder } from 'node-pg-migrate';

// Schedules (exports that run themselves) and what "changes since" needs:
// - tableport.schedules: one row per schedule; `watermark` is the pg_snapshot of its last successful
//   changes run (text), advanced in the same transaction that marks that run succeeded.
// - jobs.schedule_id: which schedule a job is a run of (its runs list).
// - tableport.tombstones: the ids of deleted rows, written by a statement-level trigger on every
//   data table (every delete path is covered, whoever wrote it), with the deleting transaction's id
//   so a changes run can tell exactly which deletions its previous snapshot already saw.
// - tableport.xid8_of(xid, ref): a row's 32-bit xmin widened to xid8 against `ref`, the current
//   snapshot's xmax (valid for any xid younger than 2^31 transactions: every unfrozen one).
export async function up(pgm: MigrationBuilder): Promise<void> {
  pgm.sql(`
    CREATE TABLE tableport.schedules (
      id            uuid PRIMARY KEY,
      user_id       bigint NOT NULL REFERENCES tableport.users (id) ON DELETE CASCADE,
      table_id      bigint,
      tables        text[],
      every_seconds integer,
      cron          text,
      timezone      text NOT NULL DEFAULT 'UTC',
      mode          text NOT NULL DEFAULT 'all' CHECK (mode IN ('all', 'changes')),
      export        jsonb NOT NULL DEFAULT '{}',
      paused        boolean NOT NULL DEFAULT false,
      watermark     text,
      watermark_at  timestamptz,
      last_fired_at timestamptz,
      last_job_id   uuid,
      last_error    jsonb,
      created_at    timestamptz NOT NULL DEFAULT now(),
      updated_at    timestamptz NOT NULL DEFAULT now(),
      CHECK ((every_seconds IS NULL) <> (cron IS NULL)),
      CHECK ((table_id IS NULL) <> (tables IS NULL))
    );
    CREATE INDEX schedules_user_created_idx ON tableport.schedules (user_id, created_at DESC, id DESC);
    CREATE INDEX schedules_table_idx ON tableport.schedules (table_id) WHERE table_id IS NOT NULL;

    ALTER TABLE tableport.jobs ADD COLUMN schedule_id uuid;
    CREATE INDEX jobs_schedule_created_idx ON tableport.jobs (schedule_id, created_at DESC, id DESC) WHERE schedule_id IS NOT NULL;

    CREATE TABLE tableport.tombstones (
      -- No foreign key: its check would cost every deleted row a lookup (bench/tombstones.ts); the
      -- pruning removes the tombstones of dropped tables.
      table_id   bigint NOT NULL,
      row_id     text COLLATE "C" NOT NULL,
      deleted_at bigint NOT NULL,
      xid        xid8 NOT NULL DEFAULT pg_current_xact_id()
    );
    CREATE INDEX tombstones_table_deleted_idx ON tableport.tombstones (table_id, deleted_at);

    CREATE FUNCTION tableport.record_tombstones() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO tableport.tombstones (table_id, row_id, deleted_at)
        SELECT TG_ARGV[0]::bigint, o.id, extract(epoch FROM clock_timestamp())::bigint FROM old_rows o;
      RETURN NULL;
    END $$;

    CREATE FUNCTION tableport.xid8_of(x xid, r bigint) RETURNS xid8 LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
      SELECT CASE WHEN x::text::bigint < 3 THEN '3'::xid8
        ELSE (r - (((r - x::text::bigint) % 4294967296 + 4294967296) % 4294967296))::text::xid8 END
    $$;

    DO $$
    DECLARE t record;
    BEGIN
      FOR t IN SELECT id FROM tableport.tables LOOP
        IF to_regclass(format('tableport_data.t_%s', t.id)) IS NOT NULL THEN
          EXECUTE format(
            'CREATE TRIGGER tombstones AFTER DELETE ON tableport_data.t_%s REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION tableport.record_tombstones(%s)',
            t.id, t.id);
        END IF;
      END LOOP;
    END $$;
  `);
}

export async function down(pgm: MigrationBuilder): Promise<void> {
  pgm.sql(`
    DROP FUNCTION IF EXISTS tableport.record_tombstones() CASCADE;
    DROP FUNCTION IF EXISTS tableport.xid8_of(xid, bigint);
    DROP TABLE IF EXISTS tableport.tombstones, tableport.schedules;
    ALTER TABLE tableport.jobs DROP COLUMN IF EXISTS schedule_id;
  `);
}

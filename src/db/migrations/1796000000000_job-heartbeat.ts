import type { MigrationBuilder } from 'node-pg-migrate';

// A running attempt writes its heartbeat every few seconds, beside the database session holding its
// claim (claim_pid), so an attempt only ever clears its own heartbeat. A second attempt that finds the claim
// held reads it: a live holder (only cut off from the queue) is left alone, a holder whose heartbeat
// stopped (a paused or hung process) is fenced off. The partial index serves the per-user count of
// running jobs that every claim makes.
export async function up(pgm: MigrationBuilder): Promise<void> {
  pgm.sql(`
    ALTER TABLE tableport.jobs ADD COLUMN heartbeat_at timestamptz, ADD COLUMN claim_pid integer;
    CREATE INDEX jobs_user_running_idx ON tableport.jobs (user_id) WHERE status = 'running';
  `);
}

export async function down(pgm: MigrationBuilder): Promise<void> {
  pgm.sql(`
    DROP INDEX IF EXISTS tableport.jobs_user_running_idx;
    ALTER TABLE tableport.jobs DROP COLUMN IF EXISTS heartbeat_at, DROP COLUMN IF EXISTS claim_pid;
  `);
}

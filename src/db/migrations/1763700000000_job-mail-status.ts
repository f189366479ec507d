import type { MigrationBuilder } from 'node-pg-migrate';

// How the outcome mail left: `sent` over SMTP (or the configured outbox), `outbox` when SMTP stayed
// down past the last attempt and the mail was written to MAIL_OUTBOX_DIR instead. NULL: not yet.
export async function up(pgm: MigrationBuilder): Promise<void> {
  pgm.sql(`
    ALTER TABLE tableport.jobs ADD COLUMN mail_status text CHECK (mail_status IN ('sent', 'outbox'));
    UPDATE tableport.jobs SET mail_status = 'sent' WHERE mail_sent_at IS NOT NULL;
    -- The sweep looks for unfinished jobs and for finished jobs still owing a mail.
    CREATE INDEX jobs_unfinished_idx ON tableport.jobs (updated_at) WHERE status IN ('queued', 'running');
    CREATE INDEX jobs_mail_owed_idx ON tableport.jobs (finished_at) WHERE mail_sent_at IS NULL AND status IN ('succeeded', 'failed');
  `);
}

export async function down(pgm: MigrationBuilder): Promise<void> {
  pgm.sql(`
    DROP INDEX IF EXISTS tableport.jobs_unfinished_idx, tableport.jobs_mail_owed_idx;
    ALTER TABLE tableport.jobs DROP COLUMN IF EXISTS mail_status;
  `);
}

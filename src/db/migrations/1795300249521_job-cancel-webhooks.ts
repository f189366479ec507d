import type { MigrationBuilder } from 'node-pg-migrate';

// Numbered after main's 1795300000000_job-locations (a timestamp set ahead of the clock): node-pg-migrate
// refuses a migration that sorts before one a database has already run.

// A job may be cancelled by its user (POST /jobs/:id/cancel). Webhooks: a user's endpoints told
// when a job ends, and the log of every delivery attempt, kept per webhook.
export async function up(pgm: MigrationBuilder): Promise<void> {
  pgm.sql(`
    ALTER TABLE tableport.jobs DROP CONSTRAINT IF EXISTS jobs_status_check;
    ALTER TABLE tableport.jobs ADD CONSTRAINT jobs_status_check CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled'));
    -- The cleanup looks for uploads that failed and cancelled imports keep for a retry.
    CREATE INDEX jobs_kept_upload_idx ON tableport.jobs (finished_at) WHERE upload_key IS NOT NULL AND status IN ('failed', 'cancelled');

    CREATE TABLE tableport.webhooks (
      id          uuid PRIMARY KEY,
      user_id     bigint NOT NULL REFERENCES tableport.users (id) ON DELETE CASCADE,
      url         text NOT NULL,
      events      text[] NOT NULL,
      -- secret-box ciphertext: the secret is never shown again, only used to sign.
      secret      text,
      created_at  timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX webhooks_user_idx ON tableport.webhooks (user_id, created_at);

    CREATE TABLE tableport.webhook_deliveries (
      id          bigserial PRIMARY KEY,
      webhook_id  uuid NOT NULL REFERENCES tableport.webhooks (id) ON DELETE CASCADE,
      job_id      uuid NOT NULL,
      event       text NOT NULL,
      attempt     integer NOT NULL,
      http_status integer,
      error       text,
      created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
    );
    CREATE INDEX webhook_deliveries_webhook_idx ON tableport.webhook_deliveries (webhook_id, id DESC);
  `);
}

export async function down(pgm: MigrationBuilder): Promise<void> {
  pgm.sql(`
    DROP TABLE IF EXISTS tableport.webhook_deliveries, tableport.webhooks;
    DROP INDEX IF EXISTS tableport.jobs_kept_upload_idx;
    ALTER TABLE tableport.jobs DROP CONSTRAINT IF EXISTS jobs_status_check;
    ALTER TABLE tableport.jobs ADD CONSTRAINT jobs_status_check CHECK (status IN ('queued', 'running', 'succeeded', 'failed'));
  `);
}

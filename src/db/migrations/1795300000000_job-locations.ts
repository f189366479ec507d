import type { MigrationBuilder } from 'node-pg-migrate';

// Exports to and imports from a location (object store, URL, server folder). The URLs are what
// people see (no credentials, no presigned query); `location_sealed` is the URL to use and the
// connection options, sealed with AES-256-GCM bound to the job id (src/crypto/secret-box.ts).
export async function up(pgm: MigrationBuilder): Promise<void> {
  pgm.sql(`
    ALTER TABLE tableport.jobs
      ADD COLUMN destination_url text,
      ADD COLUMN source_url text,
      ADD COLUMN location_sealed text;
  `);
}

export async function down(pgm: MigrationBuilder): Promise<void> {
  pgm.sql(`
    ALTER TABLE tableport.jobs
      DROP COLUMN IF EXISTS destination_url,
      DROP COLUMN IF EXISTS source_url,
      DROP COLUMN IF EXISTS location_sealed;
  `);
}

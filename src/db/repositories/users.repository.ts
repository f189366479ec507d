import type { Pool } from '../pool.js';
import { singleRow } from '../single-row.js';

export type Locale = 'en' | 'zh-CN';

export interface UserRecord {
  id: number;
  email: string;
  name: string | null;
  locale: Locale;
  created_at: Date;
}

export class UsersRepository {
  constructor(private readonly pool: Pool) {}

  /** Finds the user by email (case-insensitively) or creates it; name and locale are updated when given. */
  async upsert(email: string, name: string | null, locale: Locale | null): Promise<UserRecord> {
    const { rows } = await this.pool.query<UserRecord>(
      `INSERT INTO tableport.users (email, name, locale) VALUES ($1, $2, coalesce($3, 'en'))
       ON CONFLICT ((lower(email))) DO UPDATE
         SET name = coalesce($2, users.name), locale = coalesce($3, users.locale)
       RETURNING id, email, name, locale, created_at`,
      [email, name, locale],
    );
    return singleRow(rows, 'INSERT INTO tableport.users');
  }

  async addToken(userId: number, tokenHash: Buffer): Promise<void> {
    await this.pool.query('INSERT INTO tableport.api_tokens (user_id, token_hash) VALUES ($1, $2)', [userId, tokenHash]);
  }

  async findByTokenHash(tokenHash: Buffer): Promise<UserRecord | null> {
    const { rows } = await this.pool.query<UserRecord>(
      `SELECT u.id, u.email, u.name, u.locale, u.created_at
         FROM tableport.api_tokens t JOIN tableport.users u ON u.id = t.user_id
        WHERE t.token_hash = $1`,
      [tokenHash],
    );
    return rows[0] ?? null;
  }

  async get(id: number): Promise<UserRecord | null> {
    const { rows } = await this.pool.query<UserRecord>('SELECT id, email, name, locale, created_at FROM tableport.users WHERE id = $1', [
      id,
    ]);
    return rows[0] ?? null;
  }
}

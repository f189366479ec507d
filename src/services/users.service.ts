import { createHash, randomBytes } from 'node:crypto';
import type { Locale, UserRecord, UsersRepository } from '../db/repositories/users.repository.js';
import { InvalidParameterError, UnauthorizedError } from '../errors.js';

const TOKEN_PREFIX = 'tp_';

export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

export class UsersService {
  constructor(private readonly users: UsersRepository) {}

  /** Creates the user (or finds it by email) and issues a new API token, returned once in clear. */
  async addUserWithToken(input: {
    email: string;
    name?: string | null;
    locale?: string | null;
  }): Promise<{ user: UserRecord; token: string }> {
    const email = input.email.trim();
    if (!/^[^\s@]+@[^\s@]+$/.test(email)) throw new InvalidParameterError('email', `"${input.email}" is not an email address.`);
    const locale = input.locale ?? null;
    if (locale !== null && locale !== 'en' && locale !== 'zh-CN')
      throw new InvalidParameterError('locale', 'The locale must be "en" or "zh-CN".');
    const user = await this.users.upsert(email, input.name ?? null, locale as Locale | null);
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    await this.users.addToken(user.id, hashToken(token));
    return { user, token };
  }

  async authenticate(token: string | undefined): Promise<UserRecord> {
    if (!token) throw new UnauthorizedError();
    const user = await this.users.findByTokenHash(hashToken(token));
    if (!user) throw new UnauthorizedError('The API token is not valid.');
    return user;
  }
}

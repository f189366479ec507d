import type { NextFunction, Request, Response } from 'express';
import type { UserRecord } from '../../db/repositories/users.repository.js';
import type { UsersService } from '../../services/users.service.js';

/** Resolves `Authorization: Bearer TOKEN` to the user, kept in `res.locals.user`. */
export function authenticate(users: UsersService) {
  return async (req: Request, res: Response, next: NextFunction) => {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
    res.locals.user = await users.authenticate(m?.[1]);
    next();
  };
}

export function currentUser(res: Response): UserRecord {
  return res.locals.user as UserRecord;
}

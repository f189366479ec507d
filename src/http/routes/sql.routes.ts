import { Router } from 'express';
import { parseRequest } from '../../contracts/parse.js';
import { SqlRequestSchema } from '../../contracts/sql.js';
import type { Services } from '../../services/index.js';
import { currentUser } from '../middleware/auth.middleware.js';

/** CnosDB's `COPY INTO` statements: `{"sql": "COPY INTO ..."}` → the same jobs as the REST tasks. */
export function sqlRouter(s: Services): Router {
  const r = Router();
  r.post('/sql', async (req, res) => {
    res.status(201).json(await s.sql.run(currentUser(res).id, parseRequest(SqlRequestSchema, req.body ?? {})));
  });
  return r;
}

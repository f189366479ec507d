import { Router } from 'express';
import type { Services } from '../../services/index.js';
import { currentUser } from '../middleware/auth.middleware.js';

/** CnosDB's `COPY INTO` statements: `{"sql": "COPY INTO ..."}` → the same jobs as the REST tasks. */
export function sqlRouter(s: Services): Router {
  const r = Router();
  r.post('/sql', async (req, res) => {
    res.status(201).json(await s.sql.run(currentUser(res).id, req.body));
  });
  return r;
}

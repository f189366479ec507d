import { Router } from 'express';
import type { Services } from '../../services/index.js';
import { parsePageQuery } from '../../contracts/paging.js';
import { currentUser } from '../middleware/auth.middleware.js';

export function jobsRouter(s: Services): Router {
  const r = Router();
  r.get('/jobs/', async (req, res) => {
    res.json(await s.jobs.list(currentUser(res).id, parsePageQuery(req.query), `${req.baseUrl}/jobs/`));
  });
  r.get('/jobs/:job_id', async (req, res) => {
    res.json(await s.jobs.get(currentUser(res).id, req.params.job_id));
  });
  r.post('/jobs/:job_id/cancel', async (req, res) => {
    res.json(await s.jobControl.cancel(currentUser(res).id, req.params.job_id));
  });
  r.post('/jobs/:job_id/retry', async (req, res) => {
    const created = await s.jobControl.retry(currentUser(res).id, req.params.job_id);
    res.status(201).json(created);
  });
  r.post('/jobs/:job_id/undo', async (req, res) => {
    res.status(201).json(await s.kinds.undo.request(currentUser(res).id, req.params.job_id));
  });
  return r;
}

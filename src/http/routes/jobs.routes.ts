import { Router } from 'express';
import type { Services } from '../../services/index.js';
import { JobsFilterSchema } from '../../contracts/jobs.js';
import { parsePageQuery } from '../../contracts/paging.js';
import { parseRequest } from '../../contracts/parse.js';
import { currentUser } from '../middleware/auth.middleware.js';

export function jobsRouter(s: Services): Router {
  const r = Router();
  r.get('/jobs/', async (req, res) => {
    const page = parsePageQuery(req.query);
    const { status, type, table_id } = req.query;
    const filter = parseRequest(JobsFilterSchema, { status, type, table_id }, 'query');
    res.json(await s.jobs.list(currentUser(res).id, page, `${req.baseUrl}/jobs/`, filter));
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

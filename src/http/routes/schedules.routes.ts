import { Router } from 'express';
import { parsePageQuery } from '../../contracts/paging.js';
import { parseRequest } from '../../contracts/parse.js';
import { ScheduleCreateSchema, ScheduleUpdateSchema } from '../../contracts/schedules.js';
import type { Services } from '../../services/index.js';
import { currentUser } from '../middleware/auth.middleware.js';

/** Schedules: exports that run themselves (docs/schedules.md). */
export function schedulesRouter(s: Services): Router {
  const r = Router();
  r.post('/schedules', async (req, res) => {
    res.status(201).json(await s.schedules.create(currentUser(res).id, parseRequest(ScheduleCreateSchema, req.body ?? {})));
  });
  r.get('/schedules', async (req, res) => {
    res.json(await s.schedules.list(currentUser(res).id, parsePageQuery(req.query), `${req.baseUrl}/schedules`));
  });
  r.get('/schedules/:id', async (req, res) => {
    res.json(await s.schedules.get(currentUser(res).id, req.params.id));
  });
  r.patch('/schedules/:id', async (req, res) => {
    res.json(await s.schedules.update(currentUser(res).id, req.params.id, parseRequest(ScheduleUpdateSchema, req.body ?? {})));
  });
  r.delete('/schedules/:id', async (req, res) => {
    await s.schedules.remove(currentUser(res).id, req.params.id);
    res.status(204).end();
  });
  r.post('/schedules/:id/pause', async (req, res) => {
    res.json(await s.schedules.pause(currentUser(res).id, req.params.id));
  });
  r.post('/schedules/:id/resume', async (req, res) => {
    res.json(await s.schedules.resume(currentUser(res).id, req.params.id));
  });
  r.get('/schedules/:id/runs', async (req, res) => {
    res.json(
      await s.schedules.runs(
        currentUser(res).id,
        req.params.id,
        parsePageQuery(req.query),
        `${req.baseUrl}/schedules/${req.params.id}/runs`,
      ),
    );
  });
  return r;
}

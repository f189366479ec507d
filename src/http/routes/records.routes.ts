import { Router } from 'express';
import type { Services } from '../../services/index.js';
import { parsePageQuery } from '../../services/paging.js';
import { currentUser } from '../middleware/auth.middleware.js';

export function recordsRouter(s: Services): Router {
  const r = Router();
  r.post('/table/:table_id/record/', async (req, res) => {
    const user = currentUser(res);
    const table = await s.tables.require(user.id, req.params.table_id);
    res.status(201).json(await s.records.insert(table, user.id, req.body));
  });
  r.get('/table/:table_id/record/', async (req, res) => {
    const table = await s.tables.require(currentUser(res).id, req.params.table_id);
    res.json(await s.records.list(table, parsePageQuery(req.query), `/oserve/v1/table/${table.id}/record/`));
  });
  return r;
}

import { Router } from 'express';
import { parsePageQuery } from '../../contracts/paging.js';
import { parseTableDefinition } from '../../contracts/tables.js';
import type { Services } from '../../services/index.js';
import { currentUser } from '../middleware/auth.middleware.js';

export function tablesRouter(s: Services): Router {
  const r = Router();
  r.post('/table/', async (req, res) => {
    res.status(201).json(await s.tables.create(currentUser(res).id, parseTableDefinition(req.body)));
  });
  r.get('/table/', async (req, res) => {
    res.json(await s.tables.list(currentUser(res).id, parsePageQuery(req.query), `${req.baseUrl}/table/`));
  });
  r.get('/table/:table_id/', async (req, res) => {
    res.json(await s.tables.get(currentUser(res).id, req.params.table_id));
  });
  r.delete('/table/:table_id/', async (req, res) => {
    await s.tables.delete(currentUser(res).id, req.params.table_id);
    res.status(204).end();
  });
  return r;
}

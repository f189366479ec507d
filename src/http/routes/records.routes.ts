import { Router } from 'express';
import { parseRecordChanges, parseRecordsQuery, parseRowsInsert } from '../../contracts/records.js';
import type { Services } from '../../services/index.js';
import { currentUser } from '../middleware/auth.middleware.js';

export function recordsRouter(s: Services): Router {
  const r = Router();
  r.post('/table/:table_id/record/', async (req, res) => {
    const user = currentUser(res);
    const table = await s.tables.require(user.id, req.params.table_id);
    res.status(201).json(await s.records.insert(table, user.id, parseRowsInsert(req.body)));
  });
  r.get('/table/:table_id/record/', async (req, res) => {
    const table = await s.tables.require(currentUser(res).id, req.params.table_id);
    // Links follow the version the caller used (/oserve/v1 or /oserve/v1.5).
    const page = await s.records.list(table, parseRecordsQuery(req.query), `${req.baseUrl}/table/${table.id}/record/`);
    res.type('application/json').send(page.body);
  });
  r.get('/table/:table_id/record/:record_id/', async (req, res) => {
    const table = await s.tables.require(currentUser(res).id, req.params.table_id);
    res.json(await s.records.get(table, req.params.record_id));
  });
  r.put('/table/:table_id/record/:record_id/', async (req, res) => {
    const table = await s.tables.require(currentUser(res).id, req.params.table_id);
    res.json(await s.records.update(table, req.params.record_id, parseRecordChanges(req.body)));
  });
  r.delete('/table/:table_id/record/:record_id/', async (req, res) => {
    const table = await s.tables.require(currentUser(res).id, req.params.table_id);
    await s.records.delete(table, req.params.record_id);
    res.status(204).end();
  });
  return r;
}

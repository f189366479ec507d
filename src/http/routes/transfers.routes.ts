import { Router } from 'express';
import type { Services } from '../../services/index.js';
import { parsePageQuery } from '../../services/paging.js';
import { currentUser } from '../middleware/auth.middleware.js';
import type { createUploadReceiver } from '../middleware/upload.middleware.js';

/** Export and import tasks, and MinApp v1.5's views of a table's exports. */
export function transfersRouter(s: Services, receiveUpload: ReturnType<typeof createUploadReceiver>): Router {
  const r = Router();
  r.post('/table/:table_id/export/', async (req, res) => {
    res.status(201).json(await s.exports.request(currentUser(res).id, req.params.table_id, req.body));
  });
  r.get('/table/:table_id/export/', async (req, res) => {
    const path = `${req.baseUrl}/table/${req.params.table_id}/export/`;
    res.json(await s.jobs.listTableExports(currentUser(res).id, req.params.table_id, parsePageQuery(req.query), path));
  });
  r.get('/table/:table_id/export/:job_id/', async (req, res) => {
    res.json(await s.jobs.getTableExport(currentUser(res).id, req.params.table_id, req.params.job_id));
  });
  r.post('/table/import/', async (req, res) => {
    // A new table with a schema inferred from the file, then the import into it.
    const file = await receiveUpload(req, res);
    res.status(201).json(await s.imports.requestWithInference(currentUser(res).id, file, req.body, req.query));
  });
  r.post('/table/:table_id/import/', async (req, res) => {
    const user = currentUser(res);
    // Refuse before reading a possibly large body when the answer is already known.
    await s.imports.precheck(user.id, req.params.table_id, req.query);
    const file = await receiveUpload(req, res);
    // multer leaves the form's other fields (csv_delimiter, csv_header, columns, on_conflict) in req.body.
    res.status(201).json(await s.imports.request(user.id, req.params.table_id, file, req.body, req.query));
  });
  return r;
}

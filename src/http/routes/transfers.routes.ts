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
    if (req.is('application/json'))
      return void res.status(201).json(await s.imports.requestFromSourceWithInference(currentUser(res).id, req.body?.name, req.body));
    const file = await receiveUpload(req, res);
    res.status(201).json(await s.imports.requestWithInference(currentUser(res).id, file, req.body, req.query));
  });
  r.post('/table/:table_id/import/', async (req, res) => {
    const user = currentUser(res);
    // A JSON (or form) body names a location to read (`source`, or MinApp's `dataFileUrl`) instead of uploading.
    if (req.is(['application/json', 'application/x-www-form-urlencoded'])) {
      const body = req.query.dry_run === undefined ? req.body : { ...req.body, dry_run: req.query.dry_run };
      return void res.status(201).json(await s.imports.requestFromSource(user.id, req.params.table_id, body));
    }
    // Refuse before reading a possibly large body when the answer is already known.
    await s.imports.precheck(user.id, req.params.table_id, req.query);
    const file = await receiveUpload(req, res);
    // multer leaves the form's other fields (csv_delimiter, csv_header, columns, on_conflict) in req.body.
    res.status(201).json(await s.imports.request(user.id, req.params.table_id, file, req.body, req.query));
  });
  return r;
}

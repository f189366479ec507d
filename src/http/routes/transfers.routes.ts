import { Router } from 'express';
import { ExportRequestSchema } from '../../contracts/exports.js';
import { parseImportFields, parseNewTableName, parseNewTableSheets, parseSourceImport } from '../../contracts/imports.js';
import { InvalidParameterError } from '../../errors.js';
import { parsePageQuery } from '../../contracts/paging.js';
import { parseRequest } from '../../contracts/parse.js';
import type { Services } from '../../services/index.js';
import { currentUser } from '../middleware/auth.middleware.js';
import type { createUploadReceiver } from '../middleware/upload.middleware.js';

/** A form's fields without the new table's name and `sheets` (not import options). */
function withoutName(body: unknown): Record<string, unknown> {
  const { name: _name, sheets: _sheets, ...rest } = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  return rest;
}

/** Export and import tasks, and MinApp v1.5's views of a table's exports. */
export function transfersRouter(s: Services, receiveUpload: ReturnType<typeof createUploadReceiver>): Router {
  const r = Router();
  r.post('/table/:table_id/export/', async (req, res) => {
    res
      .status(201)
      .json(await s.kinds.export.request(currentUser(res).id, req.params.table_id, parseRequest(ExportRequestSchema, req.body ?? {})));
  });
  r.get('/table/:table_id/export/', async (req, res) => {
    const path = `${req.baseUrl}/table/${req.params.table_id}/export/`;
    res.json(await s.jobs.listTableExports(currentUser(res).id, req.params.table_id, parsePageQuery(req.query), path));
  });
  r.get('/table/:table_id/export/:job_id/', async (req, res) => {
    res.json(await s.jobs.getTableExport(currentUser(res).id, req.params.table_id, req.params.job_id));
  });
  r.post('/table/import/', async (req, res) => {
    const user = currentUser(res);
    // A new table with a schema inferred from the file, then the import into it.
    if (req.is('application/json')) {
      const name = parseNewTableName(req.body);
      if (parseNewTableSheets(req.body)) throw new InvalidParameterError('sheets', '"sheets": "all" goes with an uploaded xlsx workbook.');
      return void res.status(201).json(await s.kinds.import.newTableFromSource(user.id, name, parseSourceImport(withoutName(req.body))));
    }
    const file = await receiveUpload(req, res);
    const name = parseNewTableName(req.body);
    const fields = parseImportFields({ ...withoutName(req.body), ...dryRunOf(req.query) });
    if (parseNewTableSheets(req.body))
      return void res.status(201).json(await s.kinds.import.newTablesFromWorkbook(user.id, name, file, fields));
    res.status(201).json(await s.kinds.import.newTableFromUpload(user.id, name, file, fields));
  });
  r.post('/table/:table_id/import/', async (req, res) => {
    const user = currentUser(res);
    // A JSON (or form) body names a location to read (`source`, or MinApp's `dataFileUrl`) instead of uploading.
    if (req.is(['application/json', 'application/x-www-form-urlencoded'])) {
      const body = req.query.dry_run === undefined ? req.body : { ...req.body, dry_run: req.query.dry_run };
      return void res.status(201).json(await s.kinds.import.fromSource(user.id, req.params.table_id, parseSourceImport(body)));
    }
    // Refuse before reading a possibly large body when the answer is already known.
    await s.kinds.import.precheck(user.id, req.params.table_id, req.query.dry_run === 'true');
    const file = await receiveUpload(req, res);
    // multer leaves the form's other fields (csv_delimiter, csv_header, columns, on_conflict) in req.body.
    const fields = parseImportFields({ ...(req.body ?? {}), ...dryRunOf(req.query) });
    res.status(201).json(await s.kinds.import.fromUpload(user.id, req.params.table_id, file, fields));
  });
  return r;
}

/** `?dry_run=` beside the form's fields. */
function dryRunOf(query: Record<string, unknown>): Record<string, unknown> {
  return query.dry_run === undefined ? {} : { dry_run: query.dry_run };
}

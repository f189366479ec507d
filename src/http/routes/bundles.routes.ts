import { Router } from 'express';
import { pipeline } from 'node:stream/promises';
import { BundleDownloadQuerySchema, BundleExportRequestSchema, parseBundleImport } from '../../contracts/bundles.js';
import { parseRequest } from '../../contracts/parse.js';
import type { Services } from '../../services/index.js';
import { currentUser } from '../middleware/auth.middleware.js';
import type { createUploadReceiver } from '../middleware/upload.middleware.js';

/** Bundles (eKuiper's /data/export and /data/import): a whole workspace out and in. */
export function bundlesRouter(s: Services, receiveUpload: ReturnType<typeof createUploadReceiver>): Router {
  const r = Router();
  r.post('/data/export/', async (req, res) => {
    res.status(201).json(await s.kinds.bundle_export.request(currentUser(res).id, parseRequest(BundleExportRequestSchema, req.body ?? {})));
  });
  r.get('/data/export/', async (req, res) => {
    const query = parseRequest(BundleDownloadQuerySchema, req.query, 'query');
    const { fileName, gzip, stream } = await s.kinds.bundle_export.download(currentUser(res).id, query);
    res.set({
      'Content-Type': gzip ? 'application/gzip' : 'application/json; charset=utf-8',
      'Content-Disposition': `attachment; filename="${fileName}"`,
      'Cache-Control': 'private, no-store',
    });
    await pipeline(stream, res);
  });
  r.post('/data/import/', async (req, res) => {
    const user = currentUser(res);
    // Refuse before reading a possibly large upload when the user's minute is taken.
    await s.kinds.bundle_import.precheck(user.id);
    const file = await receiveUpload(req, res);
    res.status(201).json(await s.kinds.bundle_import.request(user.id, file, parseBundleImport(req.body, req.query)));
  });
  r.get('/data/import/status/', async (_req, res) => {
    res.json(await s.kinds.bundle_import.status(currentUser(res).id));
  });
  return r;
}

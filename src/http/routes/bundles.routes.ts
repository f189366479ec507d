import { Router } from 'express';
import { pipeline } from 'node:stream/promises';
import type { Services } from '../../services/index.js';
import { currentUser } from '../middleware/auth.middleware.js';
import type { createUploadReceiver } from '../middleware/upload.middleware.js';

/** Bundles (eKuiper's /data/export and /data/import): a whole workspace out and in. */
export function bundlesRouter(s: Services, receiveUpload: ReturnType<typeof createUploadReceiver>): Router {
  const r = Router();
  r.post('/data/export/', async (req, res) => {
    res.status(201).json(await s.bundles.exports.request(currentUser(res).id, req.body));
  });
  r.get('/data/export/', async (req, res) => {
    const { fileName, gzip, stream } = await s.bundles.exports.download(currentUser(res).id, req.query);
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
    await s.bundles.imports.precheck(user.id);
    const file = await receiveUpload(req, res);
    res.status(201).json(await s.bundles.imports.request(user.id, file, req.body, req.query));
  });
  r.get('/data/import/status/', async (_req, res) => {
    res.json(await s.bundles.imports.status(currentUser(res).id));
  });
  return r;
}

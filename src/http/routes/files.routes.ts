import { Router } from 'express';
import { pipeline } from 'node:stream/promises';
import type { Services } from '../../services/index.js';

const CONTENT_TYPES: Record<string, string> = { csv: 'text/csv; charset=utf-8', json: 'application/json; charset=utf-8' };

/** Signed downloads: no token, the link's signature and expiry are the authorisation. */
export function filesRouter(s: Services): Router {
  const r = Router();
  r.get('/files/:job_id/:file_name', async (req, res) => {
    const { job, size, stream } = await s.jobs.openDownload({
      jobId: req.params.job_id,
      fileName: req.params.file_name,
      expires: req.query.expires,
      signature: req.query.signature,
    });
    res.set({
      'Content-Type': CONTENT_TYPES[job.file_type ?? ''] ?? 'application/octet-stream',
      'Content-Length': String(size),
      'Content-Disposition': `attachment; filename="${job.file_name!.replace(/[^\x20-\x7e]|["\\]/g, '_')}"; filename*=UTF-8''${encodeURIComponent(job.file_name!)}`,
      'Cache-Control': 'private, no-store',
      'Referrer-Policy': 'no-referrer',
      'X-Content-Type-Options': 'nosniff',
    });
    try {
      await pipeline(stream, res);
    } catch (err) {
      // A client that stops reading (a closed tab, a cancelled curl) is not an error of ours.
      if ((err as { code?: string }).code === 'ERR_STREAM_PREMATURE_CLOSE' && !res.writableFinished) {
        req.log.debug({ jobId: job.id }, 'download closed early by the client');
        return;
      }
      throw err;
    }
  });
  return r;
}

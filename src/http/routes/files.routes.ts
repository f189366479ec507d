import { Router } from 'express';
import { pipeline } from 'node:stream/promises';
import { formatOf } from '../../formats/index.js';
import type { Services } from '../../services/index.js';

/** A file's type for the browser: gzip when compressed, else the format's own (an import's error report is CSV). */
function contentType(fileType: string | null, fileName: string): string {
  if (fileName.endsWith('.gz')) return 'application/gzip';
  if (fileName.endsWith('_errors.csv')) return 'text/csv; charset=utf-8';
  return formatOf(fileType ?? '')?.contentType ?? 'application/octet-stream';
}

/** Signed downloads: no token, the link's signature and expiry are the authorisation. */
export function filesRouter(s: Services): Router {
  const r = Router();
  r.get('/files/:job_id/:file_name', async (req, res) => {
    const { job, size, stream } = await s.jobs.openDownload({
      jobId: req.params.job_id,
      fileName: req.params.file_name,
      expires: typeof req.query.expires === 'string' ? req.query.expires : undefined,
      signature: typeof req.query.signature === 'string' ? req.query.signature : undefined,
    });
    res.set({
      'Content-Type': contentType(job.file_type, req.params.file_name),
      'Content-Length': String(size),
      'Content-Disposition': `attachment; filename="${req.params.file_name.replace(/[^\x20-\x7e]|["\\]/g, '_')}"; filename*=UTF-8''${encodeURIComponent(req.params.file_name)}`,
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

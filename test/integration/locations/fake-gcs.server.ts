/**
 * A small fake of the Google Cloud Storage JSON API: only the endpoints @google-cloud/storage calls
 * for a resumable upload, a media download, a listing and object metadata. No GCS emulator ships on
 * npm (fake-gcs-server is a Go binary), so the GCS driver is tested against this. Objects live in
 * memory; it is for tests of a few MB, not a store.
 *
 * Like GCS it answers 404 with a JSON error for a missing bucket or object, and, when `requireToken`
 * is set, 401 to a request without `Authorization: Bearer <token>`.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeGcs {
  url: string;
  objects: Map<string, Buffer>;
  requests: string[];
  close(): Promise<void>;
}

export async function startFakeGcs(opts: { port: number; buckets: string[]; requireToken?: string }): Promise<FakeGcs> {
  const objects = new Map<string, Buffer>();
  const sessions = new Map<string, { bucket: string; name: string }>();
  const requests: string[] = [];
  const buckets = new Set(opts.buckets);

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push(`${req.method} ${url.pathname}${url.search}`);
    const fail = (status: number, message: string): void => {
      req.resume();
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ error: { code: status, message, errors: [{ message, reason: status === 404 ? 'notFound' : 'required' }] } }),
      );
    };
    if (opts.requireToken && req.headers.authorization !== `Bearer ${opts.requireToken}`)
      return fail(401, 'Anonymous caller does not have storage.objects access.');
    const meta = (bucket: string, name: string): Record<string, string> => ({
      kind: 'storage#object',
      bucket,
      name,
      id: `${bucket}/${name}`,
      size: String(objects.get(`${bucket}/${name}`)?.length ?? 0),
    });

    // Resumable upload: POST opens a session, PUT sends the bytes (in one request or in chunks).
    let m = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(url.pathname);
    if (m && req.method === 'POST') {
      const bucket = decodeURIComponent(m[1] ?? '');
      if (!buckets.has(bucket)) return fail(404, 'The specified bucket does not exist.');
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString()) as { name?: string }) : {};
        const name = url.searchParams.get('name') ?? body.name ?? '';
        const id = randomUUID();
        sessions.set(id, { bucket, name });
        const host = req.headers.host ?? '127.0.0.1';
        res.writeHead(200, { location: `http://${host}/upload/storage/v1/b/${m?.[1]}/o?uploadType=resumable&upload_id=${id}` });
        res.end();
      });
      return;
    }
    if (m && req.method === 'PUT') {
      const session = sessions.get(url.searchParams.get('upload_id') ?? '');
      if (!session) return fail(404, 'No such upload session.');
      const key = `${session.bucket}/${session.name}`;
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        // Content-Range: bytes FIRST-LAST/TOTAL, or bytes FIRST-LAST/* for a chunk of unknown total.
        const range = /bytes (\d+)-(\d+)\/(\d+|\*)/.exec(req.headers['content-range'] ?? '');
        const previous = objects.get(`${key}.partial`) ?? Buffer.alloc(0);
        const data = Buffer.concat([previous, ...chunks]);
        if (range && range[3] === '*') {
          objects.set(`${key}.partial`, data);
          res.writeHead(308, { range: `bytes=0-${data.length - 1}` });
          return void res.end();
        }
        objects.delete(`${key}.partial`);
        objects.set(key, data);
        sessions.delete(url.searchParams.get('upload_id') ?? '');
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(meta(session.bucket, session.name)));
      });
      return;
    }

    m = /^\/storage\/v1\/b\/([^/]+)\/o(?:\/(.+))?$/.exec(url.pathname);
    if (m && req.method === 'GET') {
      const bucket = decodeURIComponent(m[1] ?? '');
      if (!buckets.has(bucket)) return fail(404, 'The specified bucket does not exist.');
      if (m[2] === undefined) {
        const prefix = url.searchParams.get('prefix') ?? '';
        const names = [...objects.keys()]
          .filter((k) => k.startsWith(`${bucket}/${prefix}`) && !k.endsWith('.partial'))
          .map((k) => k.slice(bucket.length + 1))
          .sort();
        // Pages of two, so the driver's paging is exercised.
        const start = Number(url.searchParams.get('pageToken') ?? '0');
        const page = names.slice(start, start + 2);
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end(
          JSON.stringify({
            kind: 'storage#objects',
            items: page.map((n) => meta(bucket, n)),
            ...(start + 2 < names.length ? { nextPageToken: String(start + 2) } : {}),
          }),
        );
      }
      const name = decodeURIComponent(m[2]);
      const data = objects.get(`${bucket}/${name}`);
      if (!data) return fail(404, `No such object: ${bucket}/${name}`);
      if (url.searchParams.get('alt') === 'media') {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': data.length });
        return void res.end(data);
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify(meta(bucket, name)));
    }
    fail(404, `Not implemented in the fake: ${req.method} ${url.pathname}`);
  });
  await new Promise<void>((resolve) => server.listen(opts.port, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    objects,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

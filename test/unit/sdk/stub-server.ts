/**
 * A tiny node:http server for the SDK's unit tests: it answers with whatever the test's handler
 * does and logs every request, so client logic (retries, error mapping, uploads) can be checked
 * without a real tableport.
 */
import { afterEach } from 'node:test';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StubRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
}

export type StubHandler = (req: IncomingMessage, res: ServerResponse, n: number) => void | Promise<void>;

export interface Stub {
  baseUrl: string;
  requests: StubRequest[];
  close(): Promise<void>;
}

export async function startStub(handler: StubHandler): Promise<Stub> {
  const requests: StubRequest[] = [];
  const server = createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    Promise.resolve(handler(req, res, requests.length)).catch((err: unknown) => {
      res.statusCode = 500;
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Registers an afterEach that closes the stub a test started, and returns the function that
 * starts it: `const serve = stubPerTest();` then `const stub = await serve(handler)` in a test.
 */
export function stubPerTest(): (handler: StubHandler) => Promise<Stub> {
  let current: Stub | undefined;
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
  return async (handler) => (current = await startStub(handler));
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

export async function readBody(req: IncomingMessage): Promise<string> {
  let s = '';
  for await (const chunk of req) s += String(chunk);
  return s;
}

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConnectionError, TablePort } from '../../../src/sdk/index.js';
import { sendJson, startStub, stubPerTest } from './stub-server.js';

describe('SDK retries of network faults', () => {
  const serve = stubPerTest();

  it('retries a GET whose connection was reset, then succeeds', async () => {
    const stub = await serve((req, res, n) => {
      if (n <= 2) req.socket.destroy();
      else sendJson(res, 200, { id: 3, name: 't' });
    });
    const table = await new TablePort({ baseUrl: stub.baseUrl, token: 't', retries: 3 }).getTable(3);
    assert.equal(table.name, 't');
    assert.equal(stub.requests.length, 3);
  });

  it('retries a GET answered 503, and gives the reply up after the bounded number of tries', async () => {
    const stub = await serve((_req, res) => sendJson(res, 503, { error_code: 'service_unavailable', error_msg: 'down' }));
    const err = await new TablePort({ baseUrl: stub.baseUrl, token: 't', retries: 2 }).getTable(3).catch((e: unknown) => e);
    assert.equal((err as { errorCode?: string }).errorCode, 'service_unavailable');
    assert.equal(stub.requests.length, 3);
  });

  it('never retries a POST: an export could be queued twice', async () => {
    const stub = await serve((req) => {
      req.socket.destroy();
    });
    const err = await new TablePort({ baseUrl: stub.baseUrl, token: 't', retries: 5 })
      .table(1)
      .export({ fileType: 'csv' })
      .catch((e: unknown) => e);
    assert.ok(err instanceof ConnectionError, String(err));
    assert.equal(err.errorCode, 'connection_failed');
    assert.equal(stub.requests.length, 1);
  });

  it('does not retry a POST answered 503 either', async () => {
    const stub = await serve((_req, res) => sendJson(res, 503, { error_code: 'service_unavailable', error_msg: 'down' }));
    await assert.rejects(new TablePort({ baseUrl: stub.baseUrl, token: 't' }).table(1).export({ fileType: 'csv' }));
    assert.equal(stub.requests.length, 1);
  });

  it('a refused connection ends in ConnectionError after retries + 1 attempts', async () => {
    let calls = 0;
    const counting = (input: string | URL | Request, init?: RequestInit) => {
      calls++;
      return fetch(input, init);
    };
    // A port that was just listened on and closed again: the connection is refused.
    const closed = await startStub(() => {});
    await closed.close();
    const tp = new TablePort({ baseUrl: closed.baseUrl, token: 't', retries: 2, fetch: counting });
    const err = await tp.getTable(1).catch((e: unknown) => e);
    assert.ok(err instanceof ConnectionError, String(err));
    assert.match(err.message, /ECONNREFUSED/);
    assert.equal(calls, 3);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  ApiError,
  FileTooLargeError,
  InvalidFileError,
  InvalidParameterError,
  NotFoundError,
  TablePort,
  TooFrequentError,
  TooManyRowsError,
  UnauthorizedError,
} from '../../../src/sdk/index.js';
import { sendJson, startStub, type Stub } from './stub-server.js';
import { defined } from '../../helpers/defined.js';

describe('SDK error mapping', () => {
  let stub: Stub;
  let reply: { status: number; body: unknown; headers?: Record<string, string>; raw?: string };
  before(async () => {
    stub = await startStub((_req, res) => {
      if (reply.raw !== undefined) {
        res.writeHead(reply.status, { 'content-type': 'text/html' });
        res.end(reply.raw);
      } else sendJson(res, reply.status, reply.body, reply.headers);
    });
  });
  after(() => stub.close());
  const tp = () => new TablePort({ baseUrl: stub.baseUrl, token: 't', retries: 0 });

  it('too_frequent becomes TooFrequentError with the Retry-After header in seconds', async () => {
    reply = {
      status: 400,
      body: { error_code: 'too_frequent', error_msg: 'wait', retry_after: 12 },
      headers: { 'retry-after': '42' },
    };
    const err = await tp()
      .table(1)
      .export({ fileType: 'csv' })
      .catch((e: unknown) => e);
    assert.ok(err instanceof TooFrequentError);
    assert.equal(err.errorCode, 'too_frequent');
    assert.equal(err.status, 400);
    assert.equal(err.retryAfterSeconds, 42);
    assert.equal(err.message, 'wait');
  });

  it('too_frequent without the header takes retry_after from the body', async () => {
    reply = { status: 400, body: { error_code: 'too_frequent', error_msg: 'wait', retry_after: 12 } };
    const err = await tp()
      .table(1)
      .export({ fileType: 'csv' })
      .catch((e: unknown) => e);
    assert.ok(err instanceof TooFrequentError);
    assert.equal(err.retryAfterSeconds, 12);
  });

  it('invalid_parameter carries the parameter', async () => {
    reply = { status: 400, body: { error_code: 'invalid_parameter', error_msg: 'bad file_type', parameter: 'file_type' } };
    const err = await tp()
      .table(1)
      .export({ fileType: 'xml' as 'csv' })
      .catch((e: unknown) => e);
    assert.ok(err instanceof InvalidParameterError);
    assert.equal(err.parameter, 'file_type');
    assert.equal(err.message, 'bad file_type');
  });

  it('too_many_rows carries limit and rows', async () => {
    reply = { status: 400, body: { error_code: 'too_many_rows', error_msg: 'too many', details: { limit: 5, rows: 6 } } };
    const err = await tp()
      .table(1)
      .export({ fileType: 'json' })
      .catch((e: unknown) => e);
    assert.ok(err instanceof TooManyRowsError);
    assert.equal(err.limit, 5);
    assert.equal(err.rows, 6);
  });

  const simple: Array<[string, number, new (...a: never[]) => ApiError]> = [
    ['invalid_file', 400, InvalidFileError],
    ['file_too_large', 413, FileTooLargeError],
    ['not_found', 404, NotFoundError],
    ['unauthorized', 401, UnauthorizedError],
  ];
  for (const [code, status, Cls] of simple) {
    it(`${code} becomes ${Cls.name}`, async () => {
      reply = { status, body: { error_code: code, error_msg: `msg ${code}` } };
      const err = await tp()
        .getTable(1)
        .catch((e: unknown) => e);
      assert.ok(err instanceof Cls, `got ${String(err)}`);
      assert.equal((err as ApiError).errorCode, code);
      assert.equal((err as ApiError).status, status);
      assert.equal((err as ApiError).message, `msg ${code}`);
    });
  }

  it('an unknown code stays an ApiError with the code', async () => {
    reply = { status: 409, body: { error_code: 'table_exists', error_msg: 'exists' } };
    const err = await tp()
      .createTable({ name: 'x', schema: { fields: [] } })
      .catch((e: unknown) => e);
    assert.ok(err instanceof ApiError);
    assert.equal(err.constructor, ApiError);
    assert.equal(err.errorCode, 'table_exists');
  });

  it('a non-JSON error page becomes an ApiError named by its status', async () => {
    reply = { status: 502, body: null, raw: '<html>bad gateway</html>' };
    const err = await tp()
      .getTable(1)
      .catch((e: unknown) => e);
    assert.ok(err instanceof ApiError);
    assert.equal(err.errorCode, 'service_unavailable');
    assert.equal(err.status, 502);
  });

  it('sends the bearer token', async () => {
    reply = { status: 200, body: { id: 1 } };
    await new TablePort({ baseUrl: `${stub.baseUrl}/oserve/v1/`, token: 'sekret' }).getTable(7);
    const last = defined(stub.requests.at(-1), 'stub.requests.at(-1)');
    assert.equal(last.headers.authorization, 'Bearer sekret');
    assert.equal(last.url, '/oserve/v1/table/7/');
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const ADMIN_TOKEN = 'admin-token-for-the-test-0123456789';

describe('/admin/queues with ADMIN_TOKEN set', () => {
  let server: TestServer;
  const logs: string[] = [];

  before(async () => {
    server = await startTestServer({ env: { ADMIN_TOKEN, LOG_LEVEL: 'info' }, logTo: { write: (line) => void logs.push(line) } });
  });
  after(() => server.close());

  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${server.baseUrl}${path}`, { headers, redirect: 'manual' });

  test("refused without a token, with a wrong one, and with a user's API token", async () => {
    const { token } = await server.createUser();
    for (const headers of [
      {} as Record<string, string>,
      { Authorization: `Bearer ${ADMIN_TOKEN}x` },
      { Authorization: `Bearer ${token}` },
      { Authorization: ADMIN_TOKEN },
    ]) {
      for (const path of ['/admin/queues', '/admin/queues/', '/admin/queues/api/queues']) {
        const res = await get(path, { Accept: 'application/json', ...headers });
        assert.equal(res.status, 401, `${path} ${JSON.stringify(headers)}`);
        const body = (await res.json()) as { error_code: string };
        assert.equal(body.error_code, 'unauthorized');
      }
    }
    // A browser is offered the sign-in form, which posts the token rather than putting it in a URL.
    const page = await get('/admin/queues/', { Accept: 'text/html' });
    assert.equal(page.status, 401);
    const html = await page.text();
    assert.match(html, /<form method="post" action="\/admin\/queues\/login">/);
    assert.doesNotMatch(html, /bull-board|__UI_CONFIG__/i);
  });

  test('served with the right bearer token: the dashboard and its API listing every queue', async () => {
    const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` };
    const page = await get('/admin/queues/', auth);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await page.text(), /<div id="root">/);
    const api = await get('/admin/queues/api/queues', auth);
    assert.equal(api.status, 200);
    const names = ((await api.json()) as { queues: Array<{ name: string }> }).queues.map((q) => q.name).sort();
    assert.deepEqual(names, ['email', 'export', 'import', 'maintenance']);
  });

  test('the sign-in form: a wrong token is refused, the right one gets a signed HttpOnly SameSite=Strict cookie that opens the dashboard', async () => {
    const login = (token: string) =>
      fetch(`${server.baseUrl}/admin/queues/login`, { method: 'POST', body: new URLSearchParams({ token }), redirect: 'manual' });
    const wrong = await login('not-the-token');
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get('set-cookie'), null);

    const ok = await login(ADMIN_TOKEN);
    assert.equal(ok.status, 303);
    assert.equal(ok.headers.get('location'), '/admin/queues/');
    const setCookie = ok.headers.get('set-cookie') ?? '';
    assert.match(setCookie, /^tableport_admin=\d+\.[A-Za-z0-9_-]{43};/);
    assert.match(setCookie, /HttpOnly/);
    assert.match(setCookie, /SameSite=Strict/);
    assert.match(setCookie, /Path=\/admin\/queues/);
    assert.ok(!setCookie.includes(ADMIN_TOKEN));
    const cookie = setCookie.split(';')[0] as string;

    const page = await get('/admin/queues/api/queues', { Cookie: cookie });
    assert.equal(page.status, 200);
    // A forged or altered cookie opens nothing.
    const [name, value] = cookie.split('=') as [string, string];
    const [expires, mac] = value.split('.') as [string, string];
    for (const forged of [`${name}=${Number(expires) + 3600}.${mac}`, `${name}=${expires}.${mac.slice(1)}A`]) {
      assert.equal((await get('/admin/queues/api/queues', { Cookie: forged, Accept: 'application/json' })).status, 401, forged);
    }
  });

  test('the token is never accepted from a URL, and never reaches the logs', async () => {
    // A token in the query string would end up in logs and browser history: it opens nothing.
    const res = await get(`/admin/queues/?token=${ADMIN_TOKEN}`, { Accept: 'application/json' });
    assert.equal(res.status, 401);
    await fetch(`${server.baseUrl}/admin/queues/login`, {
      method: 'POST',
      body: new URLSearchParams({ token: ADMIN_TOKEN }),
      redirect: 'manual',
    });
    await get('/admin/queues/', { Authorization: `Bearer ${ADMIN_TOKEN}` });
    const requestLines = logs.filter((l) => l.includes('/admin/queues'));
    assert.ok(requestLines.length >= 3, `request lines logged: ${requestLines.length}`);
    for (const line of logs) assert.ok(!line.includes(ADMIN_TOKEN), `the admin token in a log line: ${line}`);
  });
});

describe('/admin/queues without ADMIN_TOKEN', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  test('nothing is there: 404 for the page, its API and the sign-in form', async () => {
    for (const path of ['/admin/queues', '/admin/queues/', '/admin/queues/api/queues']) {
      const res = await fetch(`${server.baseUrl}${path}`, { headers: { Authorization: 'Bearer anything-at-all-0123456789' } });
      assert.equal(res.status, 404, path);
    }
    const login = await fetch(`${server.baseUrl}/admin/queues/login`, { method: 'POST', body: new URLSearchParams({ token: 'x' }) });
    assert.equal(login.status, 404);
  });

  test('/metrics is open when METRICS_TOKEN is unset', async () => {
    const res = await fetch(`${server.baseUrl}/metrics`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /# TYPE tableport_http_requests_total counter/);
  });
});

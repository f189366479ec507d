/**
 * bull-board at `/admin/queues`, for operators holding `ADMIN_TOKEN`. Scripts and proxies send
 * `Authorization: Bearer $ADMIN_TOKEN`; a browser cannot, so the page offers a sign-in form that
 * POSTs the token (never in a URL, so never in a log or a history) and gets back a signed,
 * HttpOnly, SameSite=Strict cookie scoped to `/admin/queues` (Secure when served over https).
 * The cookie holds an expiry and an HMAC keyed by the signing secret and the admin token, so
 * changing either signs everyone out.
 */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import express, { Router, type Request, type Response } from 'express';
import { createHmac } from 'node:crypto';
import { hasBearer, sameSecret } from '../middleware/operator-token.js';

export const ADMIN_BASE_PATH = '/admin/queues';
export const ADMIN_COOKIE = 'tableport_admin';
/** How long a browser stays signed in. */
const SESSION_SECONDS = 12 * 3600;

export interface AdminQueuesOptions {
  adminToken: string;
  signingSecret: string;
  /** `https:` here marks the cookie Secure even behind a TLS-terminating proxy. */
  publicUrl: string;
  queues: Queue[];
}

export function adminQueuesRouter(o: AdminQueuesOptions): Router {
  const key = createHmac('sha256', o.signingSecret).update(`admin-session\n${o.adminToken}`).digest();
  const sign = (expires: number) => createHmac('sha256', key).update(String(expires)).digest('base64url');
  const r = Router();
  r.use((_req, res, next) => {
    // One metrics label for the whole dashboard, and no caching of what it shows.
    res.locals.metricsRoute = ADMIN_BASE_PATH;
    res.set({ 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer', 'X-Frame-Options': 'DENY' });
    next();
  });

  r.post('/login', express.urlencoded({ extended: false, limit: '4kb' }), (req: Request, res: Response) => {
    const token: unknown = (req.body as Record<string, unknown> | undefined)?.token;
    if (typeof token !== 'string' || !sameSecret(token, o.adminToken)) {
      res.status(401).type('html').send(loginPage('That is not the admin token.'));
      return;
    }
    const expires = Math.floor(Date.now() / 1000) + SESSION_SECONDS;
    const secure = req.secure || o.publicUrl.startsWith('https:');
    res.cookie(ADMIN_COOKIE, `${expires}.${sign(expires)}`, {
      httpOnly: true,
      sameSite: 'strict',
      secure,
      path: ADMIN_BASE_PATH,
      maxAge: SESSION_SECONDS * 1000,
    });
    res.redirect(303, `${ADMIN_BASE_PATH}/`);
  });

  r.post('/logout', (_req, res) => {
    res.clearCookie(ADMIN_COOKIE, { path: ADMIN_BASE_PATH });
    res.redirect(303, `${ADMIN_BASE_PATH}/`);
  });

  r.use((req, res, next) => {
    if (hasBearer(req, o.adminToken) || validSession(cookieValue(req, ADMIN_COOKIE), sign)) {
      next();
      return;
    }
    res.set('WWW-Authenticate', 'Bearer realm="admin"');
    if (req.method === 'GET' && req.accepts(['json', 'html']) === 'html') {
      res.status(401).type('html').send(loginPage());
      return;
    }
    res
      .status(401)
      .json({ error_code: 'unauthorized', error_msg: 'The queue dashboard needs "Authorization: Bearer" with the ADMIN_TOKEN.' });
  });

  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(ADMIN_BASE_PATH);
  createBullBoard({ queues: o.queues.map((q) => new BullMQAdapter(q)), serverAdapter, options: { uiConfig: { boardTitle: 'tableport' } } });
  r.use(serverAdapter.getRouter() as express.Router);
  return r;
}

function validSession(value: string | undefined, sign: (expires: number) => string): boolean {
  const m = value === undefined ? null : /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(value);
  if (!m?.[1] || !m[2]) return false;
  const expires = Number(m[1]);
  return expires > Date.now() / 1000 && sameSecret(m[2], sign(expires));
}

function cookieValue(req: Request, name: string): string | undefined {
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

/**
 * The sign-in page, in the console's look (its colours, top bar and card), with a labelled input.
 * Self-contained: bull-board's pages are not the console's bundle, so the few rules are inline.
 */
function loginPage(problem?: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<title>Queue dashboard · tableport</title>
<style>${LOGIN_CSS}</style>
</head><body>
<header class="top"><a class="brand" href="/console/">tableport</a><span class="muted-top">Queue dashboard</span></header>
<main>
<section class="card">
<h1>Queue dashboard</h1>
<p class="help">The queues, their jobs and their failures, for the operators of this server.</p>
<form method="post" action="${ADMIN_BASE_PATH}/login">
<label for="admin-token">Admin token</label>
<input id="admin-token" type="password" name="token" autocomplete="current-password" required autofocus aria-describedby="admin-token-help${problem ? ' admin-problem' : ''}"${problem ? ' aria-invalid="true"' : ''}>
<p id="admin-token-help" class="help">The server's <code>ADMIN_TOKEN</code>. Signing in keeps an HttpOnly cookie for this page only, for 12 hours.</p>
${problem ? `<p id="admin-problem" class="notice" role="alert">${problem}</p>` : ''}
<button type="submit" class="primary">Sign in</button>
</form>
</section>
<p class="help">Looking for your tables and jobs? <a href="/console/">Open the console</a>.</p>
</main>
</body></html>
`;
}

// The console's palette and controls (console/src/style.css), reduced to what this page uses.
const LOGIN_CSS = [
  ':root{--fg:#1d2330;--muted:#5b6475;--line:#d9dee7;--bg:#f5f7fa;--accent:#2457c5;--bad:#b42318;',
  'font:15px/1.5 system-ui,-apple-system,"Segoe UI","PingFang SC","Noto Sans CJK SC",sans-serif;color:var(--fg);background:var(--bg)}',
  '*{box-sizing:border-box}body{margin:0}a{color:var(--accent)}',
  '.top{display:flex;align-items:center;gap:1.25rem;padding:.6rem 1.5rem;background:#18213a;color:#fff}',
  '.brand{font-weight:700;letter-spacing:.02em;color:#fff;text-decoration:none}.muted-top{color:#dfe6f7}',
  'main{max-width:440px;margin:3rem auto;padding:0 1rem}',
  '.card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:1rem 1.25rem}',
  'h1{font-size:1.5rem;margin:0 0 .5rem}.help{color:var(--muted)}',
  'label{display:block;font-weight:500;margin:.6rem 0 .2rem}',
  'input,button{font:inherit;border:1px solid #b8c0cf;border-radius:6px;padding:.35rem .6rem;background:#fff;color:var(--fg)}',
  'input{width:100%}button{cursor:pointer;margin-top:.6rem}',
  '.primary{background:var(--accent);border-color:var(--accent);color:#fff}',
  ':focus-visible{outline:3px solid #f0b400;outline-offset:2px}',
  '.notice{padding:.5rem .75rem;border-radius:6px;background:#fdecea;color:var(--bad)}',
  'code{font-family:ui-monospace,Menlo,monospace;font-size:.9em}',
].join('');

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

function loginPage(problem?: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>tableport · queues</title>
<style>body{font:16px system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem}input,button{font:inherit;padding:.4rem;width:100%;box-sizing:border-box;margin:.3rem 0}.problem{color:#b00}</style>
</head><body>
<h1>Queue dashboard</h1>
<p>Sign in with the server's <code>ADMIN_TOKEN</code>.</p>
${problem ? `<p class="problem">${problem}</p>` : ''}
<form method="post" action="${ADMIN_BASE_PATH}/login">
<input type="password" name="token" autocomplete="current-password" required autofocus aria-label="Admin token">
<button type="submit">Sign in</button>
</form>
</body></html>
`;
}

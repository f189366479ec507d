/**
 * Sends mail. With SMTP_URL it delivers over SMTP; without, it writes each message as an `.eml`
 * file into the outbox folder, so a developer can open what would have been sent.
 *
 * Errors reject: the send-email job must fail and let BullMQ retry it. `isPermanentMailError`
 * tells a rejection a retry cannot fix (a 5xx reply) from an outage.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import nodemailer from 'nodemailer';
import type { Logger } from '../logger.js';
import { Deadline, hostPort } from '../net/outbound-deadline.js';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
}

export interface SentMail {
  messageId: string;
  /** The `.eml` file written, in outbox mode. */
  path?: string;
}

export interface Mailer {
  send(message: MailMessage): Promise<SentMail>;
  /** Closes pooled SMTP connections; sends after this fail. */
  close(): Promise<void>;
}

export interface MailerOptions {
  /** `smtp://user:pass@host:587`, `smtps://…:465`; query keys set transport options, e.g. `?ignoreTLS=true`. */
  smtpUrl?: string | undefined;
  /** The From header, e.g. `tableport <no-reply@example.com>`. */
  from: string;
  outboxDir: string;
  /**
   * OUTBOUND_TIMEOUT_MS and OUTBOUND_MAX_DURATION_MS, as for every outbound call
   * (src/net/outbound-deadline.ts); 30 s and 1 h when unset.
   */
  timeouts?: { idleMs: number; maxDurationMs: number };
}

// Nothing in our mails refers to files or URLs to inline; refusing both means a template
// mistake can never read a local file into a mail.
const SAFE = { disableFileAccess: true, disableUrlAccess: true } as const;

export function createMailer(options: MailerOptions, logger: Logger): Mailer {
  const timeouts = options.timeouts ?? { idleMs: 30_000, maxDurationMs: 3_600_000 };
  return options.smtpUrl
    ? smtpMailer(options.smtpUrl, options.from, timeouts, logger)
    : outboxMailer(options.from, options.outboxDir, logger);
}

function smtpMailer(smtpUrl: string, from: string, timeouts: NonNullable<MailerOptions['timeouts']>, logger: Logger): Mailer {
  const log = logger.child({ component: 'mailer', transport: 'smtp' });
  const url = new URL(smtpUrl);
  const host = hostPort(url.hostname, url.port || (url.protocol === 'smtps:' ? 465 : 587));
  // Keys in the URL's query win over these (nodemailer merges the URL last).
  const open = () =>
    nodemailer.createTransport(
      {
        url: smtpUrl,
        pool: true,
        maxConnections: 3,
        // Fail fast on a dead or hanging server rather than holding a worker slot for minutes; the
        // mail job's retry with backoff is the patience. A server may think longer after the
        // message's end than between commands (RFC 5321 allows minutes), hence twice the silence.
        connectionTimeout: timeouts.idleMs,
        greetingTimeout: timeouts.idleMs,
        socketTimeout: 2 * timeouts.idleMs,
        ...SAFE,
      },
      { from },
    );
  let transport = open();
  return {
    async send(message) {
      // A server that answers byte by byte never goes silent: the send as a whole has a deadline,
      // and its pooled connections are dropped with it (sends sharing them fail and are retried).
      const deadline = new Deadline(host, timeouts.maxDurationMs);
      const used = transport;
      const info = await deadline
        .race(used.sendMail({ ...message, ...SAFE }))
        .catch((err: unknown) => {
          if (deadline.reason) {
            if (transport === used) transport = open();
            used.close();
          }
          // nodemailer's own timeouts ("Greeting never received") do not say which server.
          if (err instanceof Error && (err as NodeJS.ErrnoException).code === 'ETIMEDOUT' && !err.message.startsWith(host))
            err.message = `${host}: ${err.message}`;
          throw err;
        })
        .finally(() => deadline.end());
      // One recipient: a refused one has already thrown, but a server may accept the envelope
      // and still list it as rejected.
      if (info.rejected.length > 0) {
        throw Object.assign(new Error(`The SMTP server refused the recipient: ${info.response}`), { permanent: true });
      }
      log.info({ messageId: info.messageId, response: info.response }, 'mail sent');
      return { messageId: info.messageId };
    },
    async close() {
      transport.close();
    },
  };
}

function outboxMailer(from: string, outboxDir: string, logger: Logger): Mailer {
  const log = logger.child({ component: 'mailer', transport: 'outbox' });
  // The stream transport builds the very message SMTP would carry, headers and MIME parts,
  // with CRLF line ends as RFC 5322 wants.
  const transport = nodemailer.createTransport({ streamTransport: true, newline: 'windows', ...SAFE }, { from });
  let closed = false;
  return {
    async send(message) {
      if (closed) throw new Error('The mailer is closed.');
      const info = await transport.sendMail({ ...message, ...SAFE });
      await mkdir(outboxDir, { recursive: true });
      // Sorts by time; the random part keeps two mails of one millisecond apart.
      const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(4).toString('hex')}.eml`;
      const path = join(outboxDir, name);
      // Written under a name no .eml watcher picks up, then renamed: never a half message.
      const tmp = join(outboxDir, `.${name}.part`);
      try {
        await pipeline(info.message as Readable, createWriteStream(tmp, { flags: 'wx' }));
        await rename(tmp, path);
      } catch (err) {
        await unlink(tmp).catch(() => undefined);
        throw err;
      }
      log.info({ path, messageId: info.messageId, to: message.to, subject: message.subject }, 'mail written to the outbox');
      return { messageId: info.messageId, path };
    },
    async close() {
      closed = true;
      transport.close();
    },
  };
}

/**
 * True when retrying cannot help: the server answered 5xx (bad recipient, message refused).
 * The send-email handler should turn such an error into BullMQ's UnrecoverableError.
 */
export function isPermanentMailError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { permanent?: unknown }).permanent === true;
}

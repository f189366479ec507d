/**
 * An SMTP server inside the test process: it accepts every message (no auth, no TLS), parses it
 * with postal-mime and keeps it, so a test can wait for a mail and read it. `stop()` and
 * `start()` simulate an outage on the same port.
 */
import type { AddressInfo } from 'node:net';
import PostalMime, { type Address, type Email } from 'postal-mime';
import { SMTPServer } from 'smtp-server';

export interface CapturedMessage {
  /** The From address (no display name). */
  from: string | null;
  /** The To header's addresses. */
  to: string[];
  subject: string;
  text: string;
  html: string;
  /** RCPT TO and MAIL FROM as the client sent them. */
  envelope: { from: string | null; to: string[] };
  raw: Buffer;
  parsed: Email;
}

export interface SmtpCapture {
  port: number;
  /** For SMTP_URL. The server offers no STARTTLS, so nodemailer speaks plain SMTP. */
  url: string;
  messages: CapturedMessage[];
  /** Resolves with the first message (already received or still to come) that matches. */
  waitForMessage(predicate?: (m: CapturedMessage) => boolean, timeoutMs?: number): Promise<CapturedMessage>;
  /** Stops listening and drops open connections; messages are kept. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export interface SmtpServerOptions {
  /** Default: a free port. */
  port?: number;
  /** Answer `550` to these recipients, as a server does for an unknown mailbox. */
  rejectRecipient?: (address: string) => boolean;
}

export async function startSmtpServer(opts: SmtpServerOptions = {}): Promise<SmtpCapture> {
  const messages: CapturedMessage[] = [];
  const waiters = new Set<{ predicate: (m: CapturedMessage) => boolean; resolve: (m: CapturedMessage) => void }>();
  let server: SMTPServer | null = null;
  let port = opts.port ?? 0;

  const receive = (m: CapturedMessage) => {
    messages.push(m);
    for (const w of waiters) {
      if (w.predicate(m)) {
        waiters.delete(w);
        w.resolve(m);
      }
    }
  };

  const listen = async (): Promise<void> => {
    // A new server per start: smtp-server keeps close state on the instance.
    const s = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      // On stop(), open connections are cut at once, as a crashed server would.
      closeTimeout: 1,
      onRcptTo(address, _session, callback) {
        if (opts.rejectRecipient?.(address.address)) {
          return callback(Object.assign(new Error('5.1.1 No such mailbox'), { responseCode: 550 }));
        }
        callback();
      },
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('error', callback);
        stream.on('end', () => {
          const raw = Buffer.concat(chunks);
          PostalMime.parse(raw).then(
            (parsed) => {
              receive({
                from: mailboxes(parsed.from ? [parsed.from] : [])[0] ?? null,
                to: mailboxes(parsed.to ?? []),
                subject: parsed.subject ?? '',
                text: parsed.text ?? '',
                html: parsed.html ?? '',
                envelope: {
                  from: session.envelope.mailFrom ? session.envelope.mailFrom.address : null,
                  to: session.envelope.rcptTo.map((r) => r.address),
                },
                raw,
                parsed,
              });
              callback();
            },
            (err: Error) => callback(err),
          );
        });
      },
    });
    s.on('error', () => undefined); // connection-level noise (a client hanging up) is not a test failure
    await new Promise<void>((resolve, reject) => {
      s.server.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        s.server.off('error', reject);
        resolve();
      });
    });
    port = (s.server.address() as AddressInfo).port;
    server = s;
  };

  const stop = async (): Promise<void> => {
    const s = server;
    if (!s) return;
    server = null;
    await new Promise<void>((resolve) => {
      s.close(() => resolve());
      for (const c of s.connections) c.close();
    });
  };

  await listen();

  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    messages,
    waitForMessage(predicate = () => true, timeoutMs = 10_000) {
      const found = messages.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const waiter = {
          predicate,
          resolve: (m: CapturedMessage) => {
            clearTimeout(timer);
            resolve(m);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          const seen = messages.map((m) => `${m.envelope.to.join(',')}: ${m.subject}`).join('; ') || 'none';
          reject(new Error(`No matching mail within ${timeoutMs} ms (received: ${seen}).`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    stop,
    start: async () => {
      if (!server) await listen();
    },
    close: stop,
  };
}

function mailboxes(list: Address[]): string[] {
  return list.flatMap((a) => (a.group ? a.group.map((m) => m.address) : [a.address]));
}

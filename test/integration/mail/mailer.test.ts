import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import PostalMime from 'postal-mime';
import { createLogger } from '../../../src/logger.js';
import { createMailer, isPermanentMailError, type Mailer } from '../../../src/mail/mailer.js';
import { renderJobMail } from '../../../src/mail/render-job-mail.js';
import { startSmtpServer, type SmtpCapture } from '../../helpers/smtp.js';
import { defined } from '../../helpers/defined.js';

const logger = createLogger('silent');
const FROM = 'tableport <no-reply@tableport.test>';
const LINK =
  'http://localhost:3000/oserve/v1/files/job_1/orders.csv?expires=1773000000&signature=AbC-_dEf0123456789abcdefghijklmnopqrstuvwxy';

function exportMail(to: string) {
  const mail = renderJobMail({
    locale: 'en',
    userName: 'Ada',
    tableName: 'orders & <co>',
    tableId: 7,
    jobId: 'job_1',
    type: 'export',
    outcome: 'succeeded',
    rows: 1234,
    fileType: 'csv',
    fileName: 'orders.csv',
    downloadUrl: LINK,
    expiresAt: new Date(Date.now() + 7 * 86400_000),
    errors: [],
    publicUrl: 'http://localhost:3000',
  });
  return { to, ...mail };
}

describe('mailer over SMTP', () => {
  let smtp: SmtpCapture;
  let mailer: Mailer;
  before(async () => {
    smtp = await startSmtpServer();
    mailer = createMailer({ smtpUrl: smtp.url, from: FROM, outboxDir: '/nonexistent' }, logger);
  });
  after(async () => {
    await mailer.close();
    await smtp.close();
  });

  test('delivers to the server: recipient, subject, both parts, the link intact', async () => {
    const msg = exportMail('ada@example.com');
    const sent = await mailer.send(msg);
    assert.match(sent.messageId, /^<.+@.+>$/);
    assert.equal(sent.path, undefined);

    const got = await smtp.waitForMessage((m) => m.envelope.to.includes('ada@example.com'));
    assert.deepEqual(got.envelope, { from: 'no-reply@tableport.test', to: ['ada@example.com'] });
    assert.deepEqual(got.to, ['ada@example.com']);
    assert.equal(got.from, 'no-reply@tableport.test');
    assert.equal(got.subject, 'Export of "orders & <co>" is ready: 1,234 rows');
    assert.equal(got.parsed.messageId, sent.messageId);
    assert.ok(got.text.includes(LINK), 'the link in the text part');
    assert.ok(got.html.includes(`href="${LINK}"`), 'the link in the HTML part');
    assert.ok(got.html.includes('orders &amp; &lt;co&gt;'));
    assert.equal(got.text.trimEnd(), msg.text.trimEnd(), 'the text part arrives as rendered');
  });

  test('rejects while the server is down, and delivers once it is back', async () => {
    await smtp.stop();
    try {
      await assert.rejects(mailer.send(exportMail('down@example.com')), (err: NodeJS.ErrnoException) => {
        assert.ok(err instanceof Error);
        assert.match(String(err.code), /^E[A-Z]+$/); // ECONNECTION / ESOCKET: a plain, retryable failure
        assert.equal(isPermanentMailError(err), false);
        return true;
      });
    } finally {
      await smtp.start();
    }
    await mailer.send(exportMail('back@example.com'));
    const got = await smtp.waitForMessage((m) => m.envelope.to.includes('back@example.com'));
    assert.equal(got.subject, 'Export of "orders & <co>" is ready: 1,234 rows');
    assert.equal(smtp.messages.filter((m) => m.envelope.to.includes('down@example.com')).length, 0);
  });

  test('a refused recipient rejects as permanent (a retry cannot help)', async () => {
    const strict = await startSmtpServer({ rejectRecipient: (a) => a.startsWith('nobody@') });
    const m = createMailer({ smtpUrl: strict.url, from: FROM, outboxDir: '/nonexistent' }, logger);
    try {
      await assert.rejects(m.send(exportMail('nobody@example.com')), (err: unknown) => isPermanentMailError(err));
      await m.send(exportMail('somebody@example.com'));
      assert.deepEqual(
        strict.messages.map((x) => x.envelope.to),
        [['somebody@example.com']],
      );
    } finally {
      await m.close();
      await strict.close();
    }
  });

  test('waitForMessage times out with a clear error', async () => {
    await assert.rejects(
      smtp.waitForMessage((m) => m.subject === 'never', 50),
      /No matching mail within 50 ms/,
    );
  });
});

describe('mailer without SMTP_URL (outbox)', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tableport-outbox-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('writes an .eml that parses back to the same message', async () => {
    const outbox = join(dir, 'outbox'); // does not exist yet
    const mailer = createMailer({ from: FROM, outboxDir: outbox }, logger);
    const msg = exportMail('eve@example.com');
    const sent = await mailer.send(msg);
    const again = await mailer.send({ ...msg, subject: 'second' });
    await mailer.close();

    assert.ok(sent.path?.startsWith(outbox) && sent.path.endsWith('.eml'), sent.path);
    assert.notEqual(sent.path, again.path);
    assert.deepEqual((await readdir(outbox)).sort(), [sent.path, again.path].map((p) => p?.slice(outbox.length + 1)).sort());

    const raw = await readFile(defined(sent.path, 'sent.path'));
    assert.ok(raw.includes('\r\n'), 'CRLF line ends');
    const parsed = await PostalMime.parse(raw);
    assert.equal(parsed.subject, msg.subject);
    assert.deepEqual(
      parsed.to?.map((a) => a.address),
      ['eve@example.com'],
    );
    assert.equal(parsed.from?.address, 'no-reply@tableport.test');
    assert.equal(parsed.messageId, sent.messageId);
    assert.ok(parsed.text?.includes(LINK));
    assert.ok(parsed.html?.includes(`href="${LINK}"`));
  });
});

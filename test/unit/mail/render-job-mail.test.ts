import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MAIL_ERROR_LIMIT, renderJobMail, resolveLocale, type JobMailInput } from '../../../src/mail/render-job-mail.js';
import { hrefAttr } from '../../../src/mail/templates/blocks.js';
import type { JobError } from '../../../src/types/api.js';

const NOW = new Date('2026-03-01T12:00:00Z');
const LINK =
  'https://tp.example.com/oserve/v1/files/job_9/orders%20march.csv?expires=1772971200&signature=Zm9vYmFyLWJhei1xdXV4LTAxMjM0NTY3ODktYWJjZGVm';
const EVIL = '<script>alert(1)</script> R&D "q" \'s';

const base: JobMailInput = {
  locale: 'en',
  userName: 'Ada',
  tableName: 'orders',
  tableId: 42,
  jobId: 'job_9',
  type: 'export',
  outcome: 'succeeded',
  rows: 1234567,
  fileType: 'csv',
  fileName: 'orders march.csv',
  downloadUrl: LINK,
  expiresAt: new Date('2026-03-08T12:00:00Z'),
  errors: [],
  publicUrl: 'https://tp.example.com/',
  now: NOW,
};

const rowErrors = (n: number): JobError[] =>
  Array.from({ length: n }, (_, i) => ({
    error_code: 'invalid_row',
    error_msg: `price is not a number (${i})`,
    line: i + 2,
    field: 'price',
  }));

/** Visible text of the HTML part, entities decoded, for "does the HTML say X" checks. */
function visible(html: string): string {
  return html
    .replace(/<head>[\s\S]*<\/head>/, '')
    .replace(/<\/?(?:strong|code|a)\b[^>]*>/g, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');
}

/** The HTML part must say every fact the text part says, and vice versa. */
function assertBoth(mail: { text: string; html: string }, ...facts: string[]): void {
  const text = mail.text.replace(/\s+/g, ' ');
  const html = visible(mail.html);
  for (const f of facts) {
    assert.ok(text.includes(f), `text part lacks ${JSON.stringify(f)}:\n${mail.text}`);
    assert.ok(html.includes(f), `HTML part lacks ${JSON.stringify(f)}:\n${html}`);
  }
}

describe('renderJobMail: export succeeded', () => {
  test('en: subject, row count, file, link and its expiry in UTC and relative', () => {
    const m = renderJobMail(base);
    assert.equal(m.subject, 'Export of "orders" is ready: 1,234,567 rows');
    assertBoth(m, 'Hi Ada,', '1,234,567 rows', 'orders march.csv', 'CSV', LINK, 'March 8, 2026 at 12:00 UTC', 'in 7 days', 'job_9');
  });

  test('zh-CN: the same facts in Chinese', () => {
    const m = renderJobMail({ ...base, locale: 'zh-CN' });
    assert.equal(m.subject, '数据表“orders”导出完成：1,234,567 行');
    assertBoth(m, 'Ada，您好', '1,234,567 行', 'orders march.csv', LINK, '2026年3月8日 12:00（UTC）', '7天后', 'job_9');
    assert.match(m.html, /<html lang="zh-CN">/);
  });

  test('the link is unmodified in both parts: a line of its own in text, the exact href in HTML', () => {
    for (const locale of ['en', 'zh-CN']) {
      const m = renderJobMail({ ...base, locale });
      assert.ok(m.text.split('\n').includes(LINK), 'text line');
      const hrefs = [...m.html.matchAll(/href="([^"]*)"/g)].map((x) => x[1]);
      assert.ok(hrefs.includes(LINK), `hrefs: ${hrefs.join(' ')}`);
    }
  });

  test('one row is singular in English', () => {
    assert.equal(renderJobMail({ ...base, rows: 1 }).subject, 'Export of "orders" is ready: 1 row');
  });
});

describe('renderJobMail: failures and imports', () => {
  test('export failed: the reason, no link', () => {
    const errors = [{ error_code: 'table_deleted', error_msg: 'The table was deleted while it was being exported.' }];
    for (const [locale, subject] of [
      ['en', 'Export of "orders" failed'],
      ['zh-CN', '数据表“orders”导出失败'],
    ] as const) {
      const m = renderJobMail({ ...base, locale, outcome: 'failed', rows: 0, downloadUrl: null, expiresAt: null, errors });
      assert.equal(m.subject, subject);
      assertBoth(m, 'The table was deleted while it was being exported.', 'job_9');
      assert.ok(!m.text.includes('/oserve/v1/files/'));
    }
  });

  test('import succeeded: rows written', () => {
    const input = {
      ...base,
      type: 'import' as const,
      rows: 2500,
      fileName: 'in.json',
      fileType: 'json',
      downloadUrl: null,
      expiresAt: null,
    };
    const en = renderJobMail(input);
    assert.equal(en.subject, 'Import into "orders" is done: 2,500 rows written');
    assertBoth(en, '2,500 rows written', 'in.json');
    const zh = renderJobMail({ ...input, locale: 'zh-CN' });
    assert.equal(zh.subject, '数据表“orders”导入完成：已写入 2,500 行');
    assertBoth(zh, '已写入 2,500 行', 'in.json');
  });

  test('import failed: no row written, errors with line numbers, capped, and where to see all', () => {
    const input = {
      ...base,
      type: 'import' as const,
      outcome: 'failed' as const,
      rows: 0,
      downloadUrl: null,
      expiresAt: null,
      errors: rowErrors(25),
      errorCount: 1530,
    };
    const en = renderJobMail(input);
    assert.equal(en.subject, 'Import into "orders" failed');
    assertBoth(
      en,
      'no row was written',
      'Line 2, field price: price is not a number (0)',
      `Line ${MAIL_ERROR_LIMIT + 1}, field price`,
      'and 1,510 more',
      'To see all of them',
      'job_9',
      'GET https://tp.example.com/oserve/v1/jobs/job_9',
    );
    assert.ok(!en.text.includes(`(${MAIL_ERROR_LIMIT})`), 'the 21st error is not listed');
    assert.equal((en.text.match(/^ {2}- Line /gm) ?? []).length, MAIL_ERROR_LIMIT);
    assert.equal((en.html.match(/<li /g) ?? []).length, MAIL_ERROR_LIMIT + 1); // + "and N more"

    const zh = renderJobMail({ ...input, locale: 'zh-CN' });
    assert.equal(zh.subject, '数据表“orders”导入失败');
    assertBoth(zh, '没有写入任何一行', '第 2 行，字段 price：price is not a number (0)', '另有 1,510 个错误', '查看全部错误', 'job_9');
  });

  test('import failed with few errors lists them all and says no "more"', () => {
    const m = renderJobMail({ ...base, type: 'import', outcome: 'failed', rows: 0, errors: rowErrors(3) });
    assertBoth(m, 'Line 4, field price');
    assert.ok(!m.text.includes('more'));
    const fileLevel = renderJobMail({
      ...base,
      type: 'import',
      outcome: 'failed',
      rows: 0,
      errors: [{ error_code: 'invalid_file', error_msg: 'Column "x" is not a field of the table.' }],
    });
    assertBoth(fileLevel, 'Column "x" is not a field of the table.');
  });
});

describe('renderJobMail: user input is escaped', () => {
  const cases: JobMailInput[] = [
    { ...base, tableName: EVIL, userName: EVIL, fileName: `${EVIL}.csv` },
    { ...base, tableName: EVIL, outcome: 'failed', errors: [{ error_code: 'x', error_msg: EVIL, field: EVIL, line: 3 }] },
    { ...base, tableName: EVIL, type: 'import', outcome: 'failed', errors: [{ error_code: 'x', error_msg: EVIL, field: EVIL, line: 3 }] },
    { ...base, tableName: EVIL, type: 'import' },
  ];
  for (const locale of ['en', 'zh-CN']) {
    test(`a table name with <script> and & (${locale})`, () => {
      for (const input of cases) {
        const m = renderJobMail({ ...input, locale });
        assert.ok(!/<script/i.test(m.html), m.html);
        assert.ok(m.html.includes('&lt;script&gt;alert(1)&lt;/script&gt; R&amp;D &quot;q&quot; &#39;s'));
        // Every & in the HTML starts an entity or a query parameter of our own link.
        assert.doesNotMatch(m.html.replace(/href="[^"]*"/g, ''), /&(?!(amp|lt|gt|quot|#39);)/);
        // The text part holds the name as written, and the subject keeps it on one line.
        assert.ok(m.text.includes(EVIL));
        assert.ok(m.subject.includes(EVIL));
      }
    });
  }

  test('a table name cannot break the subject line', () => {
    const m = renderJobMail({ ...base, tableName: 'a\r\nBcc: x@evil.test' });
    assert.equal(m.subject, 'Export of "a Bcc: x@evil.test" is ready: 1,234,567 rows');
  });

  test('hrefAttr: only http(s), nothing that ends the attribute', () => {
    assert.equal(hrefAttr('javascript:alert(1)'), null);
    assert.equal(hrefAttr('https://x.test/a"onmouseover="b'), 'https://x.test/a%22onmouseover=%22b');
    assert.equal(hrefAttr('https://x.test/?a=1&b=2&copy;&lt;'), 'https://x.test/?a=1&b=2&amp;copy;&amp;lt;');
  });
});

describe('locales', () => {
  test('unknown or missing locales fall back to English; Chinese variants to zh-CN', () => {
    for (const l of [undefined, null, '', 'fr', 'de-DE', 'english']) assert.equal(resolveLocale(l), 'en', String(l));
    for (const l of ['zh-CN', 'zh', 'zh_CN', 'ZH-cn', 'zh-Hans']) assert.equal(resolveLocale(l), 'zh-CN', l);
    assert.equal(renderJobMail({ ...base, locale: 'fr' }).subject, renderJobMail(base).subject);
  });

  test('no user name: a plain greeting', () => {
    assert.match(renderJobMail({ ...base, userName: null }).text, /^Hello,/);
    assert.match(renderJobMail({ ...base, userName: ' ', locale: 'zh-CN' }).text, /^您好：/);
  });

  test('a relative expiry in hours when it is near, and none once past', () => {
    const soon = renderJobMail({ ...base, expiresAt: new Date(NOW.getTime() + 3 * 3600_000) });
    assert.ok(soon.text.includes('in 3 hours'));
    const past = renderJobMail({ ...base, expiresAt: new Date(NOW.getTime() - 1000) });
    assert.ok(!/\bin \d/.test(past.text));
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildUpload } from '../../../src/sdk/upload.js';

async function text(parts: AsyncIterable<Uint8Array>): Promise<string> {
  const chunks: Uint8Array[] = [];
  for await (const c of parts) chunks.push(c);
  return Buffer.concat(chunks).toString();
}

describe('import options as form fields', () => {
  it('sends csv_delimiter, csv_header, columns, on_conflict, dry_run and email before the file', async () => {
    const body = await buildUpload(Buffer.from('a;b\n'), {
      filename: 'rows.csv',
      csvDelimiter: ';',
      csvHeader: false,
      columns: ['title', 'qty'],
      onConflict: 'update',
      dryRun: true,
      email: false,
    });
    const s = await text(body.parts);
    const names = [...s.matchAll(/name="([^"]+)"(?:; filename="[^"]*")?\r\n(?:Content-Type: [^\r]*\r\n)?\r\n([^\r]*)/g)].map((m) => [
      m[1],
      m[2],
    ]);
    assert.deepEqual(names, [
      ['csv_delimiter', ';'],
      ['csv_header', 'false'],
      ['columns', 'title,qty'],
      ['on_conflict', 'update'],
      ['dry_run', 'true'],
      ['email', 'false'],
      ['file', 'a;b\n'],
    ]);
    assert.equal(body.length, Buffer.byteLength(s));
  });
});

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { to as libraryCopyTo } from 'pg-copy-streams';
import { CopyToStream, copyToStream } from '../../../src/db/copy-to.stream.js';
import { PG_ADMIN_URL } from '../../helpers/env.js';
import { readAll } from '../../helpers/streams.js';
import { sleep } from '../../helpers/wait.js';

/** Rows whose CSV has quotes, commas, line breaks and multi-byte text, so every byte matters. */
const ROWS_SQL = (n: number) =>
  `COPY (SELECT i, 'a, "b"' || i, E'two\\nlines ' || repeat('東', i % 7), CASE WHEN i % 5 = 0 THEN NULL ELSE i * 1.5 END
         FROM generate_series(1, ${n}) i) TO STDOUT WITH (FORMAT csv, HEADER true)`;

describe('COPY TO stream (one parse per socket chunk)', { timeout: 60_000 }, () => {
  let client: pg.Client;
  before(async () => {
    client = new pg.Client({ connectionString: PG_ADMIN_URL });
    await client.connect();
  });
  after(() => client.end());

  for (const chunkBytes of [7, 4096, undefined]) {
    test(`the same bytes and row count as pg-copy-streams (output buffers of ${chunkBytes ?? 'default'} bytes)`, async () => {
      const expected = client.query(libraryCopyTo(ROWS_SQL(20_000)));
      const want = await readAll(expected);
      const stream = client.query(copyToStream(ROWS_SQL(20_000), chunkBytes === undefined ? {} : { chunkBytes }));
      const got = await readAll(stream);
      assert.ok(want.length > 500_000, `a COPY of ${want.length} bytes spans many socket chunks`);
      assert.equal(got.length, want.length);
      assert.ok(got.equals(want), 'byte-equal');
      // The count comes from CommandComplete, which pg hands the query after the stream's end.
      assert.equal((await client.query('SELECT 1 AS one')).rows[0].one, 1, 'the connection is pg’s again');
      assert.equal(stream.rowCount, 20_000);
    });
  }

  test('notices sent between rows are skipped, not written into the file', async () => {
    await client.query(`CREATE FUNCTION pg_temp.noisy(i int) RETURNS int LANGUAGE plpgsql AS $$
      BEGIN IF i % 100 = 0 THEN RAISE NOTICE 'row %', i; END IF; RETURN i; END $$`);
    const notices: string[] = [];
    const onNotice = (n: { message?: string }) => notices.push(n.message ?? '');
    client.on('notice', onNotice);
    try {
      const got = await readAll(client.query(copyToStream('COPY (SELECT pg_temp.noisy(i) FROM generate_series(1, 1000) i) TO STDOUT')));
      assert.equal(got.toString(), `${Array.from({ length: 1000 }, (_v, i) => i + 1).join('\n')}\n`);
    } finally {
      client.off('notice', onNotice);
    }
  });

  test('an error in the middle of the COPY fails the stream with PostgreSQL’s message, and the connection still works', async () => {
    const stream = client.query(copyToStream('COPY (SELECT 1 / (i - 30000) FROM generate_series(1, 40000) i) TO STDOUT'));
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    const [err] = (await once(stream, 'error').catch((e: unknown) => [e])) as [Error];
    assert.match(err.message, /division by zero/);
    assert.ok(Buffer.concat(chunks).length < 30000 * 7, 'no row past the failing one');
    assert.equal((await client.query('SELECT 2 AS two')).rows[0].two, 2);
  });

  test('a consumer that stops reading holds the COPY back (backpressure), and gets every row when it resumes', async () => {
    const stream = client.query(copyToStream(ROWS_SQL(200_000), { chunkBytes: 16 * 1024 }));
    // One listener for the whole stream, pausing at the first buffer: no buffer can go unheard.
    const parts: Buffer[] = [];
    let holding = true;
    await new Promise<void>((resolve) => {
      stream.on('data', (c: Buffer) => {
        parts.push(c);
        if (!holding) return;
        stream.pause();
        resolve();
      });
    });
    await sleep(300);
    // Its high-water mark (16 KiB on Node 20, 64 KiB on 22) plus what one socket read (64 KiB)
    // brings: the 200,000 rows' megabytes stay in PostgreSQL.
    const bound = stream.readableHighWaterMark + 64 * 1024;
    assert.ok(stream.readableLength <= bound, `buffered ${stream.readableLength} bytes while paused (bound ${bound})`);
    holding = false;
    const ended = once(stream, 'end');
    stream.resume();
    await ended;
    const want = await readAll(client.query(libraryCopyTo(ROWS_SQL(200_000))));
    assert.ok(Buffer.concat(parts).equals(want));
  });
});

describe('COPY TO stream: protocol bytes split at every position', { timeout: 60_000 }, () => {
  const message = (code: string, body: Buffer) => {
    const head = Buffer.alloc(5);
    head.write(code, 0, 'latin1');
    head.writeUInt32BE(body.length + 4, 1);
    return Buffer.concat([head, body]);
  };
  const rows = ['1,"a, b"\n', '2,"two\nlines"\n', '', '3,東京\n'];
  const after = Buffer.from('C\u0000\u0000\u0000\u000bCOPY 3\u0000Z\u0000\u0000\u0000\u0005I', 'latin1');
  const wire = Buffer.concat([
    message('H', Buffer.from([0, 0, 1, 0, 0])),
    ...rows.slice(0, 2).map((r) => message('d', Buffer.from(r))),
    message('N', Buffer.from('SNOTICE\u0000Mhello\u0000\u0000', 'latin1')),
    ...rows.slice(2).map((r) => message('d', Buffer.from(r))),
    message('c', Buffer.alloc(0)),
    after,
  ]);

  /** Feeds `parts` to the parser as socket chunks; returns the rows' bytes and what was handed back to pg. */
  const feed = async (parts: Buffer[], chunkBytes: number) => {
    const stream = new CopyToStream('COPY x TO STDOUT', { chunkBytes });
    const internals = stream as unknown as { _buffer: { size: number; take(n: number): Buffer }; _detach(): void; _cleanup(): void };
    let handedBack: Buffer | null = null;
    internals._detach = () => {
      handedBack = internals._buffer.take(internals._buffer.size);
    };
    internals._cleanup = () => undefined;
    const out: Buffer[] = [];
    stream.on('data', (c: Buffer) => out.push(c));
    // Once detached, the library stops calling _parse and the socket's bytes go to pg.
    for (const p of parts) {
      if (handedBack) handedBack = Buffer.concat([handedBack, p]);
      else stream._parse(p);
    }
    await new Promise(setImmediate);
    return { rows: Buffer.concat(out), handedBack: handedBack as Buffer | null };
  };

  test('every two-way and three-way split gives the rows, and hands pg what follows CopyDone', async () => {
    const want = Buffer.from(rows.join(''));
    for (const chunkBytes of [1, 5, 64]) {
      for (let i = 0; i <= wire.length; i++) {
        for (const j of [i, Math.min(wire.length, i + 1), Math.min(wire.length, i + 3), wire.length]) {
          const got = await feed([wire.subarray(0, i), wire.subarray(i, j), wire.subarray(j)], chunkBytes);
          assert.ok(got.rows.equals(want), `split at ${i}/${j}, buffers of ${chunkBytes}: ${JSON.stringify(got.rows.toString())}`);
          assert.ok(got.handedBack?.equals(after), `split at ${i}/${j}: pg gets CommandComplete and ReadyForQuery`);
        }
      }
    }
  });

  test('an ErrorResponse is handed to pg whole, from its first byte', async () => {
    const error = message('E', Buffer.from('SERROR\u0000Mboom\u0000\u0000', 'latin1'));
    const bytes = Buffer.concat([message('d', Buffer.from('1\n')), error, after]);
    for (let i = 0; i <= bytes.length; i++) {
      const got = await feed([bytes.subarray(0, i), bytes.subarray(i)], 64);
      assert.ok(got.handedBack?.equals(Buffer.concat([error, after])), `split at ${i}`);
    }
  });
});

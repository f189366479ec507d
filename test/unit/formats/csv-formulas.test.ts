import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exportCopySql } from '../../../src/db/table-sql.js';
import { escapeFormula } from '../../../src/formats/csv-formulas.js';
import type { FieldSchema } from '../../../src/types/api.js';

describe('CSV formula escaping', () => {
  it('puts a quote before = + - @ TAB CR, and before nothing else', () => {
    for (const cell of ['=1+1', '+1', '-1+2', '@SUM(A1)', '\tx', '\rx', '-5', '+3'])
      assert.equal(escapeFormula(cell), `'${cell}`, JSON.stringify(cell));
    for (const cell of ['', 'plain', ' =1', "'=1", '\n=1', '１', '[1]', '{"a":1}'])
      assert.equal(escapeFormula(cell), cell, JSON.stringify(cell));
  });

  it('leaves numbers of a number column alone, but not a formula in one', () => {
    for (const cell of ['-5', '+3', '-1.5e-7', '-.5']) assert.equal(escapeFormula(cell, true), cell);
    for (const cell of ['-2+3', '=1', '-cmd|x', '@1']) assert.equal(escapeFormula(cell, true), `'${cell}`);
  });

  it('changes no byte of the default export SELECT; the escaping one wraps text columns only', () => {
    const fields: FieldSchema[] = [
      { name: 'title', type: 'string' },
      { name: 'qty', type: 'integer' },
      { name: 'tags', type: 'array' },
    ];
    const plain = exportCopySql(7, fields, 'csv', {});
    assert.equal(
      plain,
      'COPY (SELECT id, created_at, updated_at, created_by, "title", "qty", "tags"::text AS "tags" FROM tableport_data.t_7  ORDER BY created_at ASC, id ASC) TO STDOUT WITH (FORMAT csv, HEADER true)',
    );
    assert.equal(exportCopySql(7, fields, 'csv', {}, { delimiter: ',', header: true, escapeFormulas: false }), plain);
    const escaped = exportCopySql(7, fields, 'csv', {}, { delimiter: ',', header: true, escapeFormulas: true });
    assert.match(escaped, /CASE WHEN ascii\("title"\) IN \(61, 43, 45, 64, 9, 13\) THEN '''' \|\| "title" ELSE "title" END AS "title"/);
    assert.match(escaped, /CASE WHEN ascii\(id\) .* END AS id, created_at, updated_at, CASE WHEN ascii\(created_by\)/);
    assert.match(escaped, /, "qty", "tags"::text AS "tags" FROM/);
    // JSON exports never escape.
    assert.equal(
      exportCopySql(7, fields, 'json', {}, { delimiter: ',', header: true, escapeFormulas: true }),
      exportCopySql(7, fields, 'json', {}),
    );
  });
});

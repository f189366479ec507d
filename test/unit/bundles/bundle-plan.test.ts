import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BundleImportPlanner, fieldMismatch, planBundleImport, type ExistingTable } from '../../../src/bundles/index.js';
import type { TableSchema } from '../../../src/types/api.js';

const A: TableSchema = {
  fields: [
    { name: 'title', type: 'string' },
    { name: 'qty', type: 'integer' },
  ],
};
const A_REORDERED: TableSchema = {
  fields: [
    { name: 'qty', type: 'integer', description: 'how many' },
    { name: 'title', type: 'string' },
  ],
};
const B: TableSchema = {
  fields: [
    { name: 'title', type: 'string' },
    { name: 'qty', type: 'number' },
  ],
};

const existing: ExistingTable[] = [
  { id: 1, name: 'orders', schema: A },
  { id: 2, name: 'users', schema: B },
  { id: 3, name: 'logs', schema: A },
];

function summary(p: ReturnType<typeof planBundleImport>) {
  return {
    tables: p.tables.map((t) => (t.action === 'fail' ? `${t.source}->${t.target}: fail` : `${t.source}->${t.target}: ${t.action}`)),
    drop: p.drop.map((t) => t.name),
    unusedRenames: p.unusedRenames,
  };
}

describe('bundle import plan', () => {
  const bundle = [
    { name: 'orders', schema: A_REORDERED },
    { name: 'users', schema: A },
    { name: 'new_one', schema: B },
  ];

  it('reset: recreates the bundle tables, creates new ones, drops every other table', () => {
    assert.deepEqual(summary(planBundleImport('reset', existing, bundle)), {
      tables: ['orders->orders: recreate', 'users->users: recreate', 'new_one->new_one: create'],
      drop: ['logs'],
      unusedRenames: [],
    });
  });

  it('replace: the same for the bundle tables, and leaves the others', () => {
    assert.deepEqual(summary(planBundleImport('replace', existing, bundle)).drop, []);
    assert.deepEqual(summary(planBundleImport('replace', existing, bundle)).tables, [
      'orders->orders: recreate',
      'users->users: recreate',
      'new_one->new_one: create',
    ]);
  });

  it('merge: appends to same fields in any order, fails a field mismatch, creates missing tables', () => {
    const p = planBundleImport('merge', existing, bundle);
    assert.deepEqual(summary(p), {
      tables: ['orders->orders: append', 'users->users: fail', 'new_one->new_one: create'],
      drop: [],
      unusedRenames: [],
    });
    const fail = p.tables[1];
    assert.equal(fail?.action, 'fail');
    assert.equal(
      fail?.action === 'fail' && fail.reason,
      'the table "users" exists with other fields: "qty" is integer in the bundle, number in the table',
    );
    // Appending keeps the table's own schema (its order and descriptions).
    assert.equal(p.tables[0]?.action === 'append' && p.tables[0].schema, A);
  });

  it('rename: imports under the new name, and a reset keeps the renamed target', () => {
    const p = planBundleImport('reset', existing, [{ name: 'staging_orders', schema: A }], { staging_orders: 'orders', ghost: 'x' });
    assert.deepEqual(summary(p), {
      tables: ['staging_orders->orders: recreate'],
      drop: ['users', 'logs'],
      unusedRenames: ['ghost'],
    });
  });

  it('two bundle tables that would land on one name: the second fails', () => {
    const p = planBundleImport(
      'replace',
      [],
      [
        { name: 'a', schema: A },
        { name: 'b', schema: A },
      ],
      { a: 'b' },
    );
    assert.deepEqual(summary(p).tables, ['a->b: create', 'b->b: fail']);
  });

  it('an empty workspace: everything is created; an empty bundle with reset drops everything', () => {
    assert.deepEqual(summary(planBundleImport('reset', [], bundle)).tables, [
      'orders->orders: create',
      'users->users: create',
      'new_one->new_one: create',
    ]);
    assert.deepEqual(summary(planBundleImport('reset', existing, [])).drop, ['orders', 'users', 'logs']);
    assert.deepEqual(summary(planBundleImport('merge', existing, [])).drop, []);
  });

  it('the streaming planner gives the same answers table by table', () => {
    const planner = new BundleImportPlanner('reset', existing);
    assert.equal(planner.table({ name: 'logs', schema: B }).action, 'recreate');
    assert.deepEqual(
      planner.finish().drop.map((t) => t.name),
      ['orders', 'users'],
    );
  });

  it('names every difference of fields, capped', () => {
    assert.equal(fieldMismatch(A.fields, A_REORDERED.fields), undefined);
    assert.equal(
      fieldMismatch(A.fields, [
        { name: 'title', type: 'string' },
        { name: 'extra', type: 'date' },
      ]),
      'the bundle has "extra" (date), the table has not; the table has "qty" (integer), the bundle has not',
    );
    const many = Array.from({ length: 6 }, (_, k) => ({ name: `f${k}`, type: 'string' as const }));
    assert.match(fieldMismatch([], many) ?? '', /; and 3 more$/);
  });
});

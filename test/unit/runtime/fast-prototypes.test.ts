import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const source = (path: string) => JSON.stringify(fileURLToPath(new URL(`../../../${path}`, import.meta.url)));

/**
 * Runs `body` in a fresh Node process with V8's natives syntax, so that `%HasFastProperties` can say
 * whether a prototype is in fast mode; prints what `body` returns as JSON.
 */
function probe(body: string): Record<string, Record<string, boolean>> {
  const script = `const fast = new Function('o', 'return %HasFastProperties(o)');
    const { Readable, Transform, Writable } = await import('node:stream');
    const protos = { String: String.prototype, Array: Array.prototype, Object: Object.prototype, Readable: Readable.prototype,
      Writable: Writable.prototype, Transform: Transform.prototype, Buffer: Buffer.prototype };
    const state = () => Object.fromEntries(Object.entries(protos).map(([k, p]) => [k, fast(p)]));
    ${body}`;
  const out = execFileSync(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
  });
  return JSON.parse(out.trim().split('\n').pop() as string);
}

function assertAllKeptFast(r: Record<string, Record<string, boolean>>): void {
  assert.ok(r.kept, JSON.stringify(r));
  for (const [name, isFast] of Object.entries(r.kept)) assert.equal(isFast, true, `${name}.prototype is still slow: ${JSON.stringify(r)}`);
}

describe('keepPrototypesFast', () => {
  test("with every module of the service loaded (ioredis's String subclass among them), keepPrototypesFast leaves every prototype fast", () => {
    const r = probe(`
      await import(${source('src/main.ts')});
      await import(${source('src/queue/redis/redis-backend.ts')});
      await import(${source('workers/main.ts')});
      const { keepPrototypesFast } = await import(${source('src/runtime/fast-prototypes.ts')});
      keepPrototypesFast();
      console.log(JSON.stringify({ kept: state() }));`);
    assertAllKeptFast(r);
  });

  test('in a bare process, declaring a subclass of String or Transform slows that prototype until the call', () => {
    const r = probe(`
      class Text extends String {}
      class Step extends Transform {}
      const declared = state();
      const { keepPrototypesFast } = await import(${source('src/runtime/fast-prototypes.ts')});
      keepPrototypesFast();
      console.log(JSON.stringify({ declared, kept: state() }));`);
    assert.equal(r.declared?.String, false, JSON.stringify(r));
    assert.equal(r.declared?.Transform, false, JSON.stringify(r));
    assertAllKeptFast(r);
  });
});

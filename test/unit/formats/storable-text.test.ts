import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { storableJson, storableText } from '../../../src/formats/storable-text.js';

describe('storable text: what PostgreSQL cannot hold, written visibly', () => {
  it('escapes U+0000 and lone surrogates, and nothing else', () => {
    assert.equal(storableText('foo\u0000bar'), 'foo\\u0000bar');
    assert.equal(storableText('\uDFAA'), '\\udfaa');
    assert.equal(storableText('a\uD800'), 'a\\ud800');
    assert.equal(storableText('\uD800\uD800\uDC00'), '\\ud800\uD800\uDC00', 'the second high surrogate has its pair');
    const ok = 'plain, "quoted", 中文 🎉 \\u0000 as text, tab\tand\nnewline';
    assert.equal(storableText(ok), ok);
  });

  it('gives jsonb text whose strings, keys included, read back as storableText gives them', () => {
    const value = {
      'foo\u0000bar': 42,
      '\uDFAA': ['x\u0000', '\uD83D', '🎉', '\\u0000 is text', '\\\u0000'],
      nested: { msg: 'line 2, foo\u0000bar: not a field' },
    };
    const text = storableJson(value);
    assert.doesNotMatch(text, /(?<!\\)(?:\\\\)*\\u(?:0000|d[89a-f])/, 'no escape jsonb refuses');
    assert.deepEqual(JSON.parse(text), {
      'foo\\u0000bar': 42,
      '\\udfaa': ['x\\u0000', '\\ud83d', '🎉', '\\u0000 is text', '\\\\u0000'],
      nested: { msg: 'line 2, foo\\u0000bar: not a field' },
    });
    assert.equal(storableJson({ a: 'plain' }), JSON.stringify({ a: 'plain' }));
  });
});

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { canonicalEncoding, detectEncoding, StrictTextDecoder } from '../../../src/formats/text-encoding.js';

const iconv = (text: string, to: string) => execFileSync('iconv', ['-f', 'UTF-8', '-t', to], { input: text });
const found = (head: Buffer) => {
  const v = detectEncoding(head, true);
  return v && 'encoding' in v ? v.encoding : v?.problem;
};

describe('text encodings', () => {
  it('canonical names come from the WHATWG labels; non-encodings are refused', () => {
    assert.equal(canonicalEncoding('GBK'), 'gbk');
    assert.equal(canonicalEncoding('latin1'), 'windows-1252');
    assert.equal(canonicalEncoding(' UTF-16 '), 'utf-16le');
    assert.equal(canonicalEncoding('Shift-JIS'), 'shift_jis');
    assert.equal(canonicalEncoding('x-user-defined'), undefined);
    assert.equal(canonicalEncoding('klingon'), undefined);
  });

  it('detects BOMs, BOM-less UTF-16, UTF-8, GB18030 and Shift_JIS', () => {
    assert.equal(found(iconv('a,b\n1,2\n', 'UTF-16')), 'utf-16le');
    assert.equal(found(Buffer.concat([Buffer.from([0xfe, 0xff]), iconv('a,b\n', 'UTF-16BE')])), 'utf-16be');
    assert.equal(found(iconv('名字,数量\n张三,1\n', 'UTF-16BE')), 'utf-16be');
    assert.equal(found(iconv('名字,数量\n张三,1\n', 'UTF-16LE')), 'utf-16le');
    assert.equal(found(Buffer.from('名字,数量\n')), 'utf-8');
    assert.equal(found(iconv('name,city\n张三,北京市朝阳区\n', 'GB18030')), 'gb18030');
    assert.equal(found(iconv('name\nやまだ\n', 'SHIFT_JIS')), 'shift_jis');
  });

  it('does not take accented Latin text for GB18030, and names the likely encoding instead', () => {
    // "é" then an ASCII letter is a valid GBK pair; the byte shape tells it from Chinese.
    const latin = iconv('name\nJosé Müller\nCrème brûlée\nZoë\n', 'CP1252');
    assert.match(String(found(latin)), /looks like Windows-1252/);
    assert.match(String(found(iconv('name\n陳大文,臺北市\n', 'BIG5'))), /looks like Big5/);
  });

  it('binary bytes (NUL without the UTF-16 pattern) are no text', () => {
    assert.equal(detectEncoding(Buffer.from([0x50, 0, 0, 0, 0, 0, 0x13, 0x88, 0, 0, 0, 1]), true), undefined);
    // 16-bit little-endian numbers have a NUL in every other place, as UTF-16LE text has: not text.
    const shorts = Buffer.alloc(2000);
    for (let i = 0; i < 1000; i++) shorts.writeUInt16LE(i % 200, 2 * i);
    assert.equal(detectEncoding(shorts, true), undefined);
  });

  it('decodes across chunk boundaries and says where a bad sequence is', () => {
    const bytes = iconv('张三李四', 'GB18030');
    const d = new StrictTextDecoder('gb18030', '');
    assert.equal(d.decode(bytes.subarray(0, 3)) + d.decode(bytes.subarray(3)) + d.decode(), '张三李四');
    const bad = new StrictTextDecoder('utf-16le', '');
    bad.decode(Buffer.from([0x61, 0]));
    assert.throws(() => bad.decode(Buffer.from([0x00, 0xdc, 0x61, 0])), /not valid UTF-16LE text .*near byte 2/);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { detectDecimalSeparator, normalizeNumberText } from '../../../src/formats/number-format.js';

describe('number formats', () => {
  it('reads decimal commas with points, spaces and apostrophes grouping thousands', () => {
    const n = (s: string) => normalizeNumberText(s, ',');
    assert.equal(n('3,5'), '3.5');
    assert.equal(n('-1.234,56'), '-1234.56');
    assert.equal(n('1 234 567,8'), '1234567.8');
    assert.equal(n('1\u00a0234'), '1234');
    assert.equal(n("1'234,5"), '1234.5');
    assert.equal(n(',5'), '0.5');
    assert.equal(n('1,5E+03'), '1.5E+03');
    assert.equal(n('7'), '7');
    // Not a grouping in threes, or a point where the comma is the decimal mark: no number.
    assert.equal(n('1.5'), undefined);
    assert.equal(n('1.23.456'), undefined);
    assert.equal(n('1.234 567'), undefined);
  });

  it('reads points with commas grouping thousands', () => {
    const n = (s: string) => normalizeNumberText(s, '.');
    assert.equal(n('1,234.5'), '1234.5');
    assert.equal(n('+12,000'), '+12000');
    assert.equal(n('3,5'), undefined);
  });

  it('detects a separator only from cells one reading alone takes', () => {
    assert.equal(detectDecimalSeparator(['3,5', '7', '1.234,5']), ',');
    assert.equal(detectDecimalSeparator(['3.5', '1,234.5']), '.');
    assert.equal(detectDecimalSeparator(['1,234', '1.234', '7']), undefined);
    assert.equal(detectDecimalSeparator(['3,5', '3.5']), undefined);
  });
});

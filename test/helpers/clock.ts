import type { Clock } from '../../src/clock.js';

/** Real time plus an offset a test moves forward: a link expires, a minute passes, without waiting. */
export class TestClock implements Clock {
  private offset = 0;
  now(): number {
    return Date.now() + this.offset;
  }
  advance(ms: number): void {
    this.offset += ms;
  }
}

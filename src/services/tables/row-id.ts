import { randomBytes } from 'node:crypto';

/**
 * Row ids in the shape MinApp uses (24 hex digits, like a MongoDB ObjectId): 4 bytes of Unix
 * seconds, 5 random bytes per generator, a 3-byte counter. Unique without a round trip, cheap
 * enough for a million rows, and roughly sortable by creation time.
 */
export function createRowIdGenerator(): () => string {
  const random = randomBytes(5).toString('hex');
  let counter = randomBytes(3).readUIntBE(0, 3);
  return () => {
    counter = (counter + 1) & 0xffffff;
    const secs = Math.floor(Date.now() / 1000);
    return secs.toString(16).padStart(8, '0') + random + counter.toString(16).padStart(6, '0');
  };
}

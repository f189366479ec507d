/**
 * Parquet by content: the magic "PAR1" opens and closes every Parquet file; "PARE" opens and closes
 * one whose footer is encrypted (Parquet modular encryption), which is detected as Parquet so that
 * its import is refused saying so rather than as unknown binary.
 */

export const PARQUET_MAGIC = Buffer.from('PAR1', 'latin1');
export const PARQUET_ENCRYPTED_MAGIC = Buffer.from('PARE', 'latin1');

/**
 * Whether the bytes look like Parquet: `head` starts with "PAR1" (or "PARE"); when the file's last
 * bytes are known (`tail`), they must end with the same magic too (a file without it is truncated).
 */
export function isParquet(head: Buffer, tail?: Buffer): boolean {
  if (head.length < 4) return false;
  const magic = head.subarray(0, 4);
  if (!magic.equals(PARQUET_MAGIC) && !magic.equals(PARQUET_ENCRYPTED_MAGIC)) return false;
  if (tail === undefined) return true;
  return tail.length >= 4 && tail.subarray(tail.length - 4).equals(magic);
}

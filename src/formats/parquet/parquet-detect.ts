/** Parquet by content: the magic "PAR1" opens and closes every Parquet file. */

export const PARQUET_MAGIC = Buffer.from('PAR1', 'latin1');

/**
 * Whether the bytes look like Parquet: `head` starts with "PAR1"; when the file's last bytes are
 * known (`tail`), they must end with "PAR1" too (a file without it is truncated).
 */
export function isParquet(head: Buffer, tail?: Buffer): boolean {
  if (head.length < 4 || !head.subarray(0, 4).equals(PARQUET_MAGIC)) return false;
  if (tail === undefined) return true;
  return tail.length >= 4 && tail.subarray(tail.length - 4).equals(PARQUET_MAGIC);
}

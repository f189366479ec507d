import type { Readable } from 'node:stream';

/** Every byte of a stream, in one buffer (tests only: the streams they read are small). */
export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

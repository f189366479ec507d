import type { Page } from '../types/api.js';
import type { Transport } from './transport.js';

/** Which page to read. */
export interface PageOptions {
  /** Rows per page (the server caps it). */
  limit?: number;
  /** How many items to skip from the start. */
  offset?: number;
}

/** @internal Yields every item of a listing, following the server's `next` links. */
export async function* paginate<T>(
  transport: Transport,
  path: string,
  options: PageOptions | Record<string, string | number | undefined> = {},
): AsyncGenerator<T> {
  let link: string | null = transport.url(path, { ...options });
  while (link) {
    const page: Page<T> | T[] = await transport.json<Page<T> | T[]>('GET', link);
    // A plain array is one complete listing.
    if (Array.isArray(page)) {
      yield* page;
      return;
    }
    yield* page.objects;
    // An empty page that still points on would loop for ever.
    link = page.objects.length > 0 ? page.meta.next : null;
  }
}

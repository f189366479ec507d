/**
 * A file at a public URL, for imports only (MinApp's `dataFileUrl`, `source: "https://..."`): a
 * streamed GET through the outbound guard, every redirect re-checked, capped in bytes and time
 * (the guard's agent closes a silent connection; the download ends at OUTBOUND_MAX_DURATION_MS).
 */
import { InvalidLocationError } from '../errors.js';
import { guardedGet } from '../net/guarded-get.js';
import type { ListedObject, LocationDriver, OpenedRead, OpenedWrite, ParsedLocation, TransferOptions } from './location.driver.js';
import { baseName } from './location.driver.js';
import { definePlace, type Place } from './place.js';
import type { DriverContext } from './store-errors.js';

export const httpPlace: Place<'http' | 'https'> = definePlace({
  schemes: ['http', 'https'],
  url: 'web',
  options: {},
  open: ({ location, ctx, purpose, parameter }) => {
    if (purpose === 'write') throw new InvalidLocationError(parameter, `${parameter}: an http(s) URL can only be an import source.`);
    return new HttpLocationDriver(location.scheme === 'http' ? 'http' : 'https', ctx);
  },
});

export class HttpLocationDriver implements LocationDriver {
  constructor(
    readonly scheme: 'http' | 'https',
    private readonly ctx: DriverContext,
  ) {}

  async openRead(location: ParsedLocation, opts: TransferOptions = {}): Promise<OpenedRead> {
    const c = this.ctx.config;
    const res = await guardedGet(new URL(location.requestUrl ?? location.href), this.ctx.guard, {
      maxBytes: c.outboundMaxBytes,
      maxDurationMs: c.outboundMaxDurationMs,
      signal: opts.signal,
    });
    let name = baseName(location.key);
    try {
      name = decodeURIComponent(baseName(res.url.pathname)) || name;
    } catch {
      // A malformed escape in a redirect target: keep the name of the URL given.
    }
    return { stream: res.stream, size: res.size, name: name || 'download' };
  }

  // biome-ignore lint/correctness/useYield: list() is an async generator on every driver; this one refuses at the first step.
  async *list(): AsyncIterable<ListedObject> {
    throw new InvalidLocationError('source', 'An http(s) source names one file; it cannot be listed as a folder.');
  }

  openWrite(): OpenedWrite {
    throw new InvalidLocationError('destination', 'An http(s) URL can only be an import source, not an export destination.');
  }

  close(): void {}
}

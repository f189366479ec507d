/**
 * What a place is: the URL schemes it answers, how its URLs are written, the connection options it
 * takes (named as CnosDB's `COPY INTO ... CONNECTION` names them) and how it opens a driver for a
 * checked location. Each driver file declares its place with `definePlace`; `places.ts` lists them.
 * Everything else (the scheme check, the option check, the SQL parser's list of options) reads the
 * list, so a new place is its driver file and one line there.
 */
import type { LocationContext, LocationPurpose } from './index.js';
import type { LocationDriver, ParsedLocation } from './location.driver.js';

/**
 * How a place's URLs are written: `bucket` is scheme://bucket/key (the bucket's name checked as S3
 * checks it), `path` is file:///absolute/path, `web` is an http(s) URL fetched as given.
 */
export type UrlShape = 'bucket' | 'path' | 'web';

/** A connection option is a non-empty text or a flag (true/false, or the text "true"/"false"). */
export type OptionType = 'text' | 'flag';
export type OptionTypes = Readonly<Record<string, OptionType>>;

/** The checked connection of a place, typed from its options. */
export type ConnectionOf<O extends OptionTypes> = { -readonly [K in keyof O]?: O[K] extends 'flag' ? boolean : string };

export interface OpenArgs<C> {
  location: ParsedLocation;
  /** The request's `connection`, already checked against the place's options. */
  connection: C;
  ctx: LocationContext;
  purpose: LocationPurpose;
  /** How the caller names the location in messages: `destination`, `source`, ... */
  parameter: string;
}

export interface Place<S extends string = string> {
  readonly schemes: readonly S[];
  readonly url: UrlShape;
  /** What the `bucket` part of the URL is called in messages ('bucket', 'container'). */
  readonly containerName: string;
  readonly options: OptionTypes;
  open(args: OpenArgs<Readonly<Record<string, string | boolean>>>): LocationDriver;
}

export interface PlaceSpec<S extends string, O extends OptionTypes> {
  schemes: readonly S[];
  url: UrlShape;
  containerName?: string;
  options: O;
  open(args: OpenArgs<ConnectionOf<O>>): LocationDriver;
}

export function definePlace<const S extends string, const O extends OptionTypes>(spec: PlaceSpec<S, O>): Place<S> {
  return {
    schemes: spec.schemes,
    url: spec.url,
    containerName: spec.containerName ?? 'bucket',
    options: spec.options,
    // The connection was checked against `spec.options` (connection-options.ts): it is a ConnectionOf<O>.
    open: (args) => spec.open({ ...args, connection: args.connection as ConnectionOf<O> }),
  };
}

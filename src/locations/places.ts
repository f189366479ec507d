/**
 * Every place a user's location can name, in the order messages list them. A new place is its
 * driver file (declaring its place with `definePlace`, src/locations/place.ts) and one line here.
 */
import { azblobPlace } from './azblob.driver.js';
import { filePlace } from './file.driver.js';
import { gcsPlace } from './gcs.driver.js';
import { httpPlace } from './http.driver.js';
import type { Place } from './place.js';
import { s3Place } from './s3.driver.js';

export const PLACES = [s3Place, gcsPlace, azblobPlace, httpPlace, filePlace] as const;

export type LocationScheme = (typeof PLACES)[number]['schemes'][number];

const BY_SCHEME = new Map<string, Place>(PLACES.flatMap((p) => p.schemes.map((s) => [s, p] as const)));

export const LOCATION_SCHEMES: readonly LocationScheme[] = PLACES.flatMap((p) => p.schemes);

export function isLocationScheme(s: string): s is LocationScheme {
  return BY_SCHEME.has(s);
}

export function placeOf(scheme: LocationScheme): Place {
  const place = BY_SCHEME.get(scheme);
  if (!place) throw new Error(`placeOf: no place for ${scheme}`);
  return place;
}

/** "s3, gcs, azblob, http, https or file": the schemes, for messages. */
export function schemeList(): string {
  return `${LOCATION_SCHEMES.slice(0, -1).join(', ')} or ${LOCATION_SCHEMES[LOCATION_SCHEMES.length - 1]}`;
}

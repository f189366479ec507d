/**
 * Parsing and checking of location URLs: `s3://bucket/key`, `gcs://bucket/key`,
 * `azblob://container/key`, `http(s)://host/path` and `file:///path`. The WHATWG URL parser does
 * the splitting (and normalises hosts and percent-escapes); the rules here are what each store
 * accepts, by the URL shape its place declares (src/locations/place.ts). Errors are `invalid_parameter` naming the parameter the caller passes in.
 */
import { InvalidLocationError } from '../errors.js';
import { encodePath, type ParsedLocation } from './location.driver.js';
import { isLocationScheme, placeOf, schemeList } from './places.js';

const BUCKET = /^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/;

export function parseLocationUrl(raw: string, parameter = 'location'): ParsedLocation {
  if (typeof raw !== 'string' || raw.length === 0)
    throw new InvalidLocationError(parameter, `${parameter} must be a URL such as s3://bucket/path.`);
  if (raw.length > 2048) throw new InvalidLocationError(parameter, `${parameter} is longer than 2048 characters.`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InvalidLocationError(
      parameter,
      `${parameter} is not a URL; write it as s3://bucket/path, gcs://..., azblob://..., https://... or file:///....`,
    );
  }
  const scheme = url.protocol.slice(0, -1).toLowerCase();
  if (!isLocationScheme(scheme)) {
    throw new InvalidLocationError(parameter, `${parameter}: the scheme "${scheme}" is not supported; use ${schemeList()}.`);
  }
  const place = placeOf(scheme);
  if (place.url === 'web') {
    if (url.username || url.password) throw new InvalidLocationError(parameter, `${parameter} must not carry a user name or password.`);
    url.hash = '';
    // The query stays for the request (a presigned URL needs it) but is never shown.
    return { scheme, container: '', key: url.pathname, isFolder: false, href: `${url.origin}${url.pathname}`, requestUrl: url.toString() };
  }
  if (url.search || url.hash || url.username || url.password || url.port) {
    throw new InvalidLocationError(
      parameter,
      `${parameter} must not carry a query, fragment, user, password or port; connection options go in "connection".`,
    );
  }
  let key: string;
  try {
    key = decodeURIComponent(url.pathname);
  } catch {
    throw new InvalidLocationError(parameter, `${parameter} has a malformed %-escape.`);
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: object keys with control characters are refused on purpose.
  if (/[\u0000-\u001f\u007f]/.test(key)) throw new InvalidLocationError(parameter, `${parameter} holds a control character.`);
  if (place.url === 'path') {
    if (url.hostname && url.hostname !== 'localhost')
      throw new InvalidLocationError(parameter, `${parameter}: file:// URLs name a local path (file:///path).`);
    if (!key.startsWith('/')) throw new InvalidLocationError(parameter, `${parameter}: file:// needs an absolute path.`);
    return { scheme, container: '', key: key.slice(1), isFolder: key.endsWith('/'), href: `file://${encodePath(key)}` };
  }
  const container = url.hostname;
  if (!BUCKET.test(container)) {
    throw new InvalidLocationError(parameter, `${parameter}: "${container}" is not a valid ${place.containerName} name.`);
  }
  const objectKey = key.replace(/^\/+/, '');
  if (objectKey.length > 1024) throw new InvalidLocationError(parameter, `${parameter}: the object key is longer than 1024 characters.`);
  return {
    scheme,
    container,
    key: objectKey,
    isFolder: objectKey === '' || objectKey.endsWith('/'),
    href: `${scheme}://${container}/${encodePath(objectKey)}`,
  };
}

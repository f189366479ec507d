/**
 * The connection options each store takes, named exactly as CnosDB's `COPY INTO ... CONNECTION`
 * names them, and their parsing: an unknown or mistyped option is a clear `invalid_parameter`
 * naming it, never silently ignored (a typo in `secret_key` would otherwise fall back to the
 * server's own credentials).
 */
import { InvalidLocationError } from '../errors.js';

export const CONNECTION_OPTIONS = {
  s3: ['region', 'access_key_id', 'secret_key', 'endpoint_url', 'token', 'virtual_hosted_style'],
  gcs: ['gcs_base_url', 'disable_oauth', 'client_email', 'private_key'],
  // use_emulator: CnosDB's shorthand for azurite's default endpoint, http://127.0.0.1:10000/<account>.
  azblob: ['account', 'access_key', 'bearer_token', 'endpoint_url', 'use_emulator'],
  http: [],
  https: [],
  file: [],
} as const satisfies Record<string, readonly string[]>;

export type LocationScheme = keyof typeof CONNECTION_OPTIONS;
export const LOCATION_SCHEMES = Object.keys(CONNECTION_OPTIONS) as LocationScheme[];

const BOOLEAN_OPTIONS = new Set(['virtual_hosted_style', 'disable_oauth', 'use_emulator']);

export interface S3Connection {
  region?: string;
  access_key_id?: string;
  secret_key?: string;
  endpoint_url?: string;
  token?: string;
  virtual_hosted_style?: boolean;
}
export interface GcsConnection {
  gcs_base_url?: string;
  disable_oauth?: boolean;
  client_email?: string;
  private_key?: string;
}
export interface AzblobConnection {
  account?: string;
  access_key?: string;
  bearer_token?: string;
  endpoint_url?: string;
  use_emulator?: boolean;
}
export type ConnectionOptions = S3Connection | GcsConnection | AzblobConnection;

export function isLocationScheme(s: string): s is LocationScheme {
  return Object.hasOwn(CONNECTION_OPTIONS, s);
}

/** The options `scheme` takes, for messages and for the SQL parser. */
export function optionNames(scheme: LocationScheme): readonly string[] {
  return CONNECTION_OPTIONS[scheme];
}

/**
 * Checks a request's `connection` object for `scheme`: every key known, booleans boolean (or the
 * text "true"/"false"), the rest non-empty strings. `parameter` is how the caller names it.
 */
export function parseConnection(scheme: LocationScheme, raw: unknown, parameter = 'connection'): Record<string, string | boolean> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw))
    throw new InvalidLocationError(parameter, `${parameter} must be an object of options.`);
  const allowed: readonly string[] = CONNECTION_OPTIONS[scheme];
  const out: Record<string, string | boolean> = {};
  for (const [key, value] of Object.entries(raw)) {
    const name = key.toLowerCase();
    if (!allowed.includes(name)) {
      const known = allowed.length ? `; ${scheme}:// takes ${allowed.join(', ')}` : `; ${scheme}:// takes none`;
      throw new InvalidLocationError(`${parameter}.${key}`, `Unknown connection option "${key}"${known}.`);
    }
    if (Object.hasOwn(out, name)) throw new InvalidLocationError(`${parameter}.${key}`, `The connection option "${name}" is given twice.`);
    if (BOOLEAN_OPTIONS.has(name)) {
      if (typeof value === 'boolean') out[name] = value;
      else if (value === 'true' || value === 'false') out[name] = value === 'true';
      else throw new InvalidLocationError(`${parameter}.${key}`, `The connection option "${name}" must be true or false.`);
    } else {
      if (typeof value !== 'string' || value.length === 0 || value.length > 8192) {
        throw new InvalidLocationError(`${parameter}.${key}`, `The connection option "${name}" must be a non-empty string.`);
      }
      out[name] = value;
    }
  }
  return out;
}

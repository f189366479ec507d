/**
 * The connection options each place takes (declared by the place, src/locations/places.ts), named
 * exactly as CnosDB's `COPY INTO ... CONNECTION` names them, and their parsing: an unknown or
 * mistyped option is a clear `invalid_parameter` naming it, never silently ignored (a typo in
 * `secret_key` would otherwise fall back to the server's own credentials).
 */
import { InvalidLocationError } from '../errors.js';
import { placeOf, type LocationScheme } from './places.js';

/** The option names `scheme` takes, for messages and for the SQL parser. */
export function optionNames(scheme: LocationScheme): readonly string[] {
  return Object.keys(placeOf(scheme).options);
}

export { isLocationScheme, LOCATION_SCHEMES, type LocationScheme } from './places.js';

/**
 * Checks a request's `connection` object for `scheme`: every key known, flags boolean (or the
 * text "true"/"false"), the rest non-empty strings. `parameter` is how the caller names it.
 */
export function parseConnection(scheme: LocationScheme, raw: unknown, parameter = 'connection'): Record<string, string | boolean> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw))
    throw new InvalidLocationError(parameter, `${parameter} must be an object of options.`);
  const types = placeOf(scheme).options;
  const allowed = optionNames(scheme);
  const out: Record<string, string | boolean> = {};
  for (const [key, value] of Object.entries(raw)) {
    const name = key.toLowerCase();
    if (!Object.hasOwn(types, name)) {
      const known = allowed.length ? `; ${scheme}:// takes ${allowed.join(', ')}` : `; ${scheme}:// takes none`;
      throw new InvalidLocationError(`${parameter}.${key}`, `Unknown connection option "${key}"${known}.`);
    }
    if (Object.hasOwn(out, name)) throw new InvalidLocationError(`${parameter}.${key}`, `The connection option "${name}" is given twice.`);
    if (types[name] === 'flag') {
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

/**
 * Connection options as they may be shown: in a log line, an API reply, an email. Only the
 * options known to be harmless keep their value; every other one, including any option this list
 * does not know yet, becomes "[redacted]". Safer to hide a region by mistake than show a key.
 */
const SHOWN = new Set([
  'region',
  'endpoint_url',
  'virtual_hosted_style',
  'gcs_base_url',
  'disable_oauth',
  'account',
  'client_email',
  'use_emulator',
]);

export const REDACTED = '[redacted]';

export function redactConnection(connection: unknown): Record<string, unknown> | undefined {
  if (connection === null || typeof connection !== 'object' || Array.isArray(connection)) return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(connection)) {
    const key = k.toLowerCase();
    out[k] = SHOWN.has(key) && (typeof v === 'string' || typeof v === 'boolean') ? stripUserInfo(key, v) : REDACTED;
  }
  return out;
}

/** An endpoint URL may carry user:password; keep the rest. */
function stripUserInfo(key: string, value: string | boolean): string | boolean {
  if (typeof value !== 'string' || !key.endsWith('_url')) return value;
  try {
    const u = new URL(value);
    if (!u.username && !u.password) return value;
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return REDACTED;
  }
}

/**
 * pino `redact` paths for the places a connection could sit in a log object, so even a careless
 * `logger.info({ body })` does not print a key.
 */
export const CONNECTION_LOG_REDACT_PATHS = [
  'connection',
  '*.connection',
  'body.connection',
  'req.body.connection',
  'data.connection',
  '*.secret_key',
  '*.access_key',
  '*.bearer_token',
  '*.private_key',
  '*.token',
];

/**
 * The per-table minute in Redis: one key per kind and table (or user), holding when the minute ends
 * by the service's clock and who took it. Taking it is one Lua script, so any number of API
 * processes agree on who got it; the key's own expiry only tidies up.
 */
import type { Clock } from '../../clock.js';
import { TooFrequentError } from '../../errors.js';
import type { MinuteStore } from '../queue-backend.js';
import type { RedisClient } from './redis-connection.js';

// The value is "<end in ms>:<holder>". Returns 0 when taken, else the milliseconds left.
const ACQUIRE = `
local v = redis.call('GET', KEYS[1])
if v then
  local left = tonumber(string.match(v, '^(%d+):')) - tonumber(ARGV[2])
  if left > 0 then return left end
end
redis.call('SET', KEYS[1], ARGV[3] .. ':' .. ARGV[1], 'PX', ARGV[4])
return 0`;

const RELEASE = `
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, string.find(v, ':', 1, true) + 1) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export class RedisMinutes implements MinuteStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly intervalSeconds: number,
    private readonly clock: Clock,
  ) {}

  private key(kind: string, key: number): string {
    return `${this.prefix}:rate:${kind}:${key}`;
  }

  async acquire(kind: string, key: number, holder: string): Promise<void> {
    const now = this.clock.now();
    const ms = this.intervalSeconds * 1000;
    const left = Number(await this.redis.eval(ACQUIRE, 1, this.key(kind, key), holder, now, now + ms, ms));
    if (left > 0) throw new TooFrequentError(Math.max(1, Math.ceil(left / 1000)), kind);
  }

  async check(kind: string, key: number): Promise<void> {
    const v = await this.redis.get(this.key(kind, key));
    const end = v ? Number(v.slice(0, v.indexOf(':'))) : 0;
    const left = end - this.clock.now();
    if (left > 0) throw new TooFrequentError(Math.max(1, Math.ceil(left / 1000)), kind);
  }

  async release(kind: string, key: number, holder: string): Promise<void> {
    await this.redis.eval(RELEASE, 1, this.key(kind, key), holder);
  }
}

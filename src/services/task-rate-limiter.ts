import type { RedisClient } from '../jobs/queues.js';
import { TooFrequentError } from '../errors.js';
import type { JobType } from '../types/api.js';

// Set-if-absent with an expiry, or report how long the holder has left: one atomic step, so any
// number of API processes agree on who got the minute.
const ACQUIRE = `
if redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then return 0 end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then return 1 end
return ttl`;

/** One task of a kind per table per interval (60 s by the contract), shared through Redis. */
export class TaskRateLimiter {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly intervalSeconds: number,
  ) {}

  private key(kind: JobType, tableId: number): string {
    return `${this.prefix}:rate:${kind}:${tableId}`;
  }

  /** Takes the table's slot for `kind`, or throws TooFrequentError with the seconds left. */
  async acquire(kind: JobType, tableId: number, holder: string): Promise<void> {
    const left = Number(await this.redis.eval(ACQUIRE, 1, this.key(kind, tableId), holder, this.intervalSeconds * 1000));
    if (left > 0) throw new TooFrequentError(Math.max(1, Math.ceil(left / 1000)), kind);
  }

  /** Throws as `acquire` would, without taking the slot: lets an upload be refused before it is read. */
  async check(kind: JobType, tableId: number): Promise<void> {
    const left = await this.redis.pttl(this.key(kind, tableId));
    if (left > 0) throw new TooFrequentError(Math.max(1, Math.ceil(left / 1000)), kind);
  }

  /** Gives the slot back, only if `holder` still has it (the task could not be queued after all). */
  async release(kind: JobType, tableId: number, holder: string): Promise<void> {
    await this.redis.eval(
      `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`,
      1,
      this.key(kind, tableId),
      holder,
    );
  }
}

/**
 * Time as a dependency. What the service decides by the time of day (a download link's expiry,
 * the per-table minute, the sweeps, a job's deadline) reads `Clock.now()`, so a test moves time
 * instead of sleeping. Intervals that only pace the service's own work (progress throttling,
 * back-offs between polls) may use timers directly.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** The current time of `clock` as a Date. */
export function dateOf(clock: Clock): Date {
  return new Date(clock.now());
}

/** Unix seconds of `clock`. */
export function unixSeconds(clock: Clock): number {
  return Math.floor(clock.now() / 1000);
}

/**
 * Resolves after `ms`, or rejects with the signal's reason when it is aborted first. The one
 * sleep of the code base: a wait that ignores cancel or shutdown holds a worker's slot.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Waits for `work` at most `ms`: true when it settled in time (either way), false when it did not.
 * For goodbyes that may never come (closing a connection to a server that went away).
 */
export async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
    timer.unref();
  });
  try {
    return await Promise.race([
      work.then(
        () => true,
        () => true,
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

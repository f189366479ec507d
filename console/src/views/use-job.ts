import { useEffect, useState } from 'preact/hooks';
import { api, isFinished, type Job } from '../api';

/**
 * A job as the API shows it, fetched again every `pollMs` until it has ended. `refresh` fetches it
 * now (after an action on it); `error` is the last fetch's, cleared by the next one that works.
 */
export function useJob(id: string, pollMs: number): { job: Job | null; error: unknown; refresh: () => void } {
  const [job, setJob] = useState<Job | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let alive = true;
    api.job(id).then(
      (j) => {
        if (!alive) return;
        setJob(j);
        setError(null);
        if (!isFinished(j)) timer = setTimeout(() => setTick((n) => n + 1), pollMs);
      },
      (err: unknown) => alive && setError(err),
    );
    return () => {
      alive = false;
      clearTimeout(timer);
    };
  }, [id, tick, pollMs]);
  return { job, error, refresh: () => setTick((n) => n + 1) };
}

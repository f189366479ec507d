import { useEffect, useState } from 'preact/hooks';
import { api, type Job, type Page, type Schedule } from '../api';
import { lang, t, word } from '../i18n';
import { go, takeFlash } from '../route';
import { ErrorNotice, type Msg, msg, News, ServerText, When } from '../ui';

/**
 * The caller's schedules (`GET /schedules`): when each runs, in which time zone and mode, when it
 * runs next; pause, resume and delete; `openId`: the schedule whose runs are listed (`#/schedules/<id>`).
 * Schedules are made from a table's export form ("Schedule this export").
 */
export function SchedulesView({ openId }: { openId?: string | undefined }) {
  lang.use();
  const [page, setPage] = useState<Page<Schedule> | null>(null);
  const [names, setNames] = useState<Map<number, string>>(new Map());
  const [error, setError] = useState<unknown>(null);
  const [news, setNews] = useState<Msg | null>(takeFlash());
  const [busy, setBusy] = useState(false);
  const [tick, setTick] = useState(0);

  // The list waits for the table names, so a schedule is never shown (or said deleted) as "table #id".
  useEffect(() => {
    Promise.all([api.schedules(), api.tables(0, 1000)]).then(
      ([p, tables]) => {
        setNames(new Map(tables.objects.map((tb) => [tb.id, tb.name])));
        setPage(p);
        setError(null);
      },
      (err: unknown) => setError(err),
    );
  }, [tick]);

  const act = async (fn: () => Promise<Msg>) => {
    setBusy(true);
    setError(null);
    try {
      setNews(await fn());
      setTick((n) => n + 1);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const what = (s: Schedule) =>
    s.table_id !== null
      ? (names.get(s.table_id) ?? t('tableGone', { id: s.table_id }))
      : (s.tables ?? []).join(', ') || t('bundleNoTables');
  const remove = (s: Schedule) => {
    if (!confirm(t('confirmDeleteSchedule', { what: what(s) }))) return;
    void act(async () => {
      await api.deleteSchedule(s.id);
      if (openId === s.id) go('#/schedules');
      return msg('scheduleDeleted', { what: what(s) });
    });
  };
  const schedules = page?.objects ?? [];
  const open = schedules.find((s) => s.id === openId);

  return (
    <section aria-labelledby="schedules-title">
      <div class="title-row">
        <h1 id="schedules-title" tabIndex={-1}>
          {t('schedules')}
        </h1>
        <button type="button" onClick={() => setTick((n) => n + 1)}>
          {t('refresh')}
        </button>
      </div>
      <News news={news} />
      <ErrorNotice error={error} />
      {page === null ? (
        error ? null : (
          <p>{t('loading')}</p>
        )
      ) : schedules.length === 0 ? (
        <p>{t('noSchedules')}</p>
      ) : (
        <div class="scroll">
          <table class="grid dense schedules-table" aria-labelledby="schedules-title">
            <thead>
              <tr>
                <th scope="col">{t('table')}</th>
                <th scope="col">{t('when')}</th>
                <th scope="col">{t('timezone')}</th>
                <th scope="col">{t('scheduleMode')}</th>
                <th scope="col">{t('nextRun')}</th>
                <th scope="col">{t('status')}</th>
                <th scope="col">{t('actions')}</th>
              </tr>
            </thead>
            <tbody>
              {schedules.map((s) => (
                <tr key={s.id} data-schedule-id={s.id} class={s.id === openId ? 'open' : undefined}>
                  <th scope="row">{what(s)}</th>
                  <td class="nowrap">
                    <code>{s.every ? t('everyText', { every: s.every }) : s.cron}</code>
                  </td>
                  <td>{s.timezone}</td>
                  <td>{t(s.mode === 'changes' ? 'scheduleChanges' : 'scheduleAll')}</td>
                  <td class="nowrap">{s.next_run_at ? <When secs={s.next_run_at} compact /> : <span class="muted">—</span>}</td>
                  <td data-testid="schedule-status">
                    {s.paused ? t('paused') : t('active')}
                    {s.last_error && (
                      <div class="small">
                        <ServerText code={s.last_error.error_code} message={s.last_error.error_msg} />
                      </div>
                    )}
                  </td>
                  <td class="nowrap">
                    <a href={`#/schedules/${s.id}`} aria-label={t('runsOf', { what: what(s) })}>
                      {t('runs')}
                    </a>{' '}
                    {s.paused ? (
                      <button
                        type="button"
                        class="small"
                        disabled={busy}
                        onClick={() =>
                          void act(async () => {
                            await api.resumeSchedule(s.id);
                            return msg('scheduleResumed', { what: what(s) });
                          })
                        }
                      >
                        {t('resume')}
                      </button>
                    ) : (
                      <button
                        type="button"
                        class="small"
                        disabled={busy}
                        onClick={() =>
                          void act(async () => {
                            await api.pauseSchedule(s.id);
                            return msg('schedulePaused', { what: what(s) });
                          })
                        }
                      >
                        {t('pause')}
                      </button>
                    )}{' '}
                    <button type="button" class="small" disabled={busy} onClick={() => remove(s)}>
                      {t('delete')}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {open && <Runs key={open.id} schedule={open} label={what(open)} tick={tick} />}
    </section>
  );
}

/** A schedule's runs (`GET /schedules/:id/runs`): ordinary jobs, each a link to its details. */
function Runs({ schedule, label, tick }: { schedule: Schedule; label: string; tick: number }) {
  const [page, setPage] = useState<Page<Job> | null>(null);
  const [error, setError] = useState<unknown>(null);
  // `tick`: the page's Refresh reloads the runs too.
  useEffect(() => {
    api.scheduleRuns(schedule.id).then(setPage, (err: unknown) => setError(err));
  }, [schedule.id, tick]);
  const l = lang.get();
  return (
    <section class="card schedule-runs" aria-labelledby="runs-title" data-testid="schedule-runs">
      <h2 id="runs-title">{t('runsOf', { what: label })}</h2>
      <ErrorNotice error={error} />
      {page && page.objects.length === 0 && <p>{t('noRuns')}</p>}
      {page && page.objects.length > 0 && (
        <ul>
          {page.objects.map((j) => (
            <li key={j.id} data-job-id={j.id}>
              <a href={`#/jobs/${j.id}`}>
                <When secs={j.created_at} />
              </a>{' '}
              <span class={`badge ${j.status}`}>{word('st_', j.status)}</span> {t('rowsCount', { n: j.rows.toLocaleString(l) })}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

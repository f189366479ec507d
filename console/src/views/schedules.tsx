import { Fragment } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { api, type Job, type Page, type Schedule, type ScheduleChange } from '../api';
import { lang, t, word } from '../i18n';
import { go, takeFlash } from '../route';
import { ErrorNotice, type Msg, msg, News, ServerText, When } from '../ui';
import { browserTimezone, ScheduleFields, type ScheduleTiming, timingBody } from './schedule-fields';

const COLUMNS = 7;
const editButtonId = (id: string) => `edit-schedule-${id}`;

/**
 * The caller's schedules (`GET /schedules`): when each runs, in which time zone and mode, when it
 * runs next; change its timing and mode (Edit: a form in a row under it), pause, resume and delete;
 * `openId`: the schedule whose runs are listed (`#/schedules/<id>`). Schedules are made from a
 * table's export form ("Schedule this export").
 */
export function SchedulesView({ openId }: { openId?: string | undefined }) {
  lang.use();
  const [page, setPage] = useState<Page<Schedule> | null>(null);
  const [names, setNames] = useState<Map<number, string>>(new Map());
  const [error, setError] = useState<unknown>(null);
  const [news, setNews] = useState<Msg | null>(takeFlash());
  const [busy, setBusy] = useState(false);
  const [tick, setTick] = useState(0);
  // The schedule whose Edit form is open (one at a time); once it closes, the focus goes back to its Edit button.
  const [editing, setEditing] = useState<string | null>(null);
  const refocus = useRef<string | null>(null);
  // A layout effect: the focus moves as the form leaves the page, not a frame later.
  useLayoutEffect(() => {
    if (editing !== null || refocus.current === null) return;
    document.getElementById(editButtonId(refocus.current))?.focus();
    refocus.current = null;
  }, [editing]);
  // The last action's news would sit beside this form's own outcome: it goes.
  const openEdit = (id: string) => {
    setNews(null);
    setEditing(id);
  };
  const closeEdit = (id: string) => {
    refocus.current = id;
    setEditing(null);
  };

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
  // Saved: the row shows the server's reply (next run included) at once.
  const saved = (s: Schedule, changed: boolean) => {
    if (changed) setPage((p) => (p ? { ...p, objects: p.objects.map((x) => (x.id === s.id ? s : x)) } : p));
    setError(null);
    setNews(msg(changed ? 'scheduleUpdated' : 'scheduleUnchanged', { what: what(s) }));
    closeEdit(s.id);
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
                <Fragment key={s.id}>
                  <tr data-schedule-id={s.id} class={s.id === openId ? 'open' : undefined}>
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
                      <button
                        type="button"
                        class="small"
                        id={editButtonId(s.id)}
                        aria-expanded={editing === s.id}
                        aria-controls={editing === s.id ? `edit-form-${s.id}` : undefined}
                        disabled={busy}
                        onClick={() => (editing === s.id ? closeEdit(s.id) : openEdit(s.id))}
                      >
                        {t('edit')}
                      </button>{' '}
                      <button
                        type="button"
                        class="small"
                        disabled={busy}
                        onClick={() =>
                          void act(async () => {
                            await (s.paused ? api.resumeSchedule(s.id) : api.pauseSchedule(s.id));
                            return msg(s.paused ? 'scheduleResumed' : 'schedulePaused', { what: what(s) });
                          })
                        }
                      >
                        {t(s.paused ? 'resume' : 'pause')}
                      </button>{' '}
                      <button type="button" class="small" disabled={busy} onClick={() => remove(s)}>
                        {t('delete')}
                      </button>
                    </td>
                  </tr>
                  {editing === s.id && (
                    <tr class="edit-row" data-edit-of={s.id}>
                      <td colSpan={COLUMNS}>
                        <ScheduleEdit schedule={s} label={what(s)} onSaved={saved} onCancel={() => closeEdit(s.id)} />
                      </td>
                    </tr>
                  )}
                </Fragment>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {open && <Runs key={open.id} schedule={open} label={what(open)} tick={tick} />}
    </section>
  );
}

/** The form's fields from a schedule: its own values, and for the other way of timing the new-schedule defaults. */
function timingOf(s: Schedule): ScheduleTiming {
  return {
    how: s.cron !== null ? 'cron' : 'every',
    every: s.every ?? '1h',
    cron: s.cron ?? '0 3 * * *',
    // An interval's time zone means nothing; switching it to a cron pattern starts from the browser's.
    timezone: s.cron !== null ? s.timezone : browserTimezone(),
    mode: s.mode,
  };
}

/**
 * What a `PATCH` sends: only what changed, since a new interval restarts it from now and a new mode
 * starts a changes schedule over. A cron pattern and its time zone go together.
 */
function changeOf(s: Schedule, v: ScheduleTiming): ScheduleChange {
  const out: ScheduleChange = {};
  const timing = timingBody(v);
  if ('every' in timing) {
    if (timing.every !== s.every) out.every = timing.every;
  } else if (timing.cron !== s.cron || timing.timezone !== s.timezone) Object.assign(out, timing);
  if (s.table_id !== null && v.mode !== s.mode) out.mode = v.mode;
  return out;
}

/**
 * A schedule's Edit form, in a row under it: its timing and (one table's) mode, the fields of
 * "Schedule this export". It takes the focus when it opens; Escape or Cancel closes it unchanged.
 */
function ScheduleEdit({
  schedule,
  label,
  onSaved,
  onCancel,
}: {
  schedule: Schedule;
  label: string;
  onSaved: (s: Schedule, changed: boolean) => void;
  onCancel: () => void;
}) {
  const [value, setValue] = useState<ScheduleTiming>(() => timingOf(schedule));
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const form = useRef<HTMLFormElement>(null);
  useLayoutEffect(() => {
    form.current?.querySelector<HTMLInputElement>('input:checked')?.focus();
  }, []);

  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    const change = changeOf(schedule, value);
    if (Object.keys(change).length === 0) return onSaved(schedule, false);
    setError(null);
    setBusy(true);
    try {
      onSaved(await api.updateSchedule(schedule.id, change), true);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  const titleId = `edit-title-${schedule.id}`;
  return (
    <form
      ref={form}
      id={`edit-form-${schedule.id}`}
      class="schedule-edit"
      aria-labelledby={titleId}
      onSubmit={submit}
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.preventDefault();
          onCancel();
        }
      }}
    >
      <h2 id={titleId}>{t('editScheduleOf', { what: label })}</h2>
      <ScheduleFields idPrefix={`edit-${schedule.id}`} value={value} onChange={setValue} withMode={schedule.table_id !== null} />
      {value.how === 'every' && <p class="help">{t('editEveryHelp')}</p>}
      <ErrorNotice error={error} />
      <div class="job-actions">
        {/* Not disabled while saving: a disabled button drops the focus, and a refusal leaves it where it was. */}
        <button type="submit" class="primary" aria-disabled={busy}>
          {t('save')}
        </button>
        <button type="button" onClick={onCancel}>
          {t('cancel')}
        </button>
      </div>
    </form>
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

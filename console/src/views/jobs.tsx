import { useEffect, useRef, useState } from 'preact/hooks';
import { api, isFinished, JOB_STATUSES, JOB_TYPES, type Job, type JobFilter, type Page } from '../api';
import { lang, t, word } from '../i18n';
import { go, takeFlash } from '../route';
import { Duration, ErrorNotice, News, type Msg, When } from '../ui';
import { JobPanel } from './job-panel';
import { fileLabel, jobLabel, tableLabel } from './job-words';

const POLL_MS = 1000;
const LIMIT = 20;

/**
 * The caller's jobs as a dense table, filtered and paged by the server (`GET /jobs/?status=&type=&table_id=`),
 * refreshed every second while a job on the page is queued or running. `openId`: the job whose
 * details are open beside the table (`#/jobs/<id>`).
 */
export function JobsView({ openId }: { openId?: string | undefined }) {
  lang.use();
  const [page, setPage] = useState<Page<Job> | null>(null);
  const [names, setNames] = useState<Map<number, string>>(new Map());
  const [filter, setFilter] = useState<JobFilter>({});
  const [offset, setOffset] = useState(0);
  const [error, setError] = useState<unknown>(null);
  const [news, setNews] = useState<Msg | null>(takeFlash());
  const [tick, setTick] = useState(0);
  const alive = useRef(true);

  useEffect(() => {
    alive.current = true;
    api.tables(0, 1000).then(
      (p) => setNames(new Map(p.objects.map((tb) => [tb.id, tb.name]))),
      () => {},
    );
    return () => {
      alive.current = false;
    };
  }, []);

  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    // A reply to a superseded request (the filter changed while it was on its way) is dropped: replies
    // can arrive out of order, and an older one must not show the rows of a filter no longer chosen.
    let current = true;
    api.jobs({ ...filter, limit: LIMIT, offset }).then(
      (p) => {
        if (!alive.current || !current) return;
        setPage(p);
        setError(null);
        if (p.objects.some((j) => !isFinished(j))) timer = setTimeout(() => setTick((n) => n + 1), POLL_MS);
      },
      (err: unknown) => {
        if (!alive.current || !current) return;
        setError(err);
        timer = setTimeout(() => setTick((n) => n + 1), POLL_MS * 5);
      },
    );
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [tick, filter, offset]);

  // Closing a job's details returns the focus to its link in the table, where the user left it.
  const lastOpen = useRef<string | undefined>(openId);
  useEffect(() => {
    if (!openId && lastOpen.current) document.getElementById(`job-link-${lastOpen.current}`)?.focus();
    lastOpen.current = openId;
  }, [openId]);

  const refresh = () => setTick((n) => n + 1);
  const narrow = (patch: JobFilter) => {
    setOffset(0);
    setFilter((f) => {
      const next: JobFilter = { ...f, ...patch };
      for (const k of Object.keys(next) as Array<keyof JobFilter>) if (next[k] === undefined || next[k] === '') delete next[k];
      return next;
    });
  };
  const filtered = Object.keys(filter).length > 0;
  const total = page?.meta.total_count ?? 0;
  const jobs = page?.objects ?? [];

  return (
    <div class={`jobs-layout${openId ? ' has-panel' : ''}`}>
      <section class="jobs-main" aria-labelledby="jobs-title">
        <div class="title-row">
          <h1 id="jobs-title" tabIndex={-1}>
            {t('jobs')}
          </h1>
          <button type="button" onClick={refresh}>
            {t('refresh')}
          </button>
        </div>
        <News news={news} />
        <ErrorNotice error={error} />
        <fieldset class="filter jobs-filter">
          <legend class="sr-only">{t('filters')}</legend>
          <span>
            <label for="jobs-status">{t('status')}</label>
            <select id="jobs-status" value={filter.status ?? ''} onChange={(e) => narrow({ status: e.currentTarget.value })}>
              <option value="">{t('anyStatus')}</option>
              {JOB_STATUSES.map((s) => (
                <option key={s} value={s}>
                  {word('st_', s)}
                </option>
              ))}
            </select>
          </span>
          <span>
            <label for="jobs-type">{t('type')}</label>
            <select id="jobs-type" value={filter.type ?? ''} onChange={(e) => narrow({ type: e.currentTarget.value })}>
              <option value="">{t('anyType')}</option>
              {JOB_TYPES.map((ty) => (
                <option key={ty} value={ty}>
                  {word('ty_', ty)}
                </option>
              ))}
            </select>
          </span>
          <span>
            <label for="jobs-table">{t('table')}</label>
            <select
              id="jobs-table"
              value={filter.table_id === undefined ? '' : String(filter.table_id)}
              onChange={(e) => {
                const v = e.currentTarget.value;
                narrow({ table_id: v ? Number(v) : undefined });
              }}
            >
              <option value="">{t('anyTable')}</option>
              {[...names].map(([id, name]) => (
                <option key={id} value={String(id)}>
                  {name}
                </option>
              ))}
            </select>
          </span>
          {filtered && (
            <button type="button" onClick={() => narrow({ status: undefined, type: undefined, table_id: undefined })}>
              {t('clearFilters')}
            </button>
          )}
        </fieldset>
        {page === null ? (
          error ? null : (
            <p>{t('loading')}</p>
          )
        ) : jobs.length === 0 ? (
          <p>{filtered ? t('noJobsMatch') : t('noJobs')}</p>
        ) : (
          <div class="scroll">
            <table class="grid dense jobs-table" aria-labelledby="jobs-title">
              <thead>
                <tr>
                  <th scope="col">{t('type')}</th>
                  <th scope="col">{t('table')}</th>
                  <th scope="col" class="col-file">
                    {t('file')}
                  </th>
                  <th scope="col">{t('status')}</th>
                  <th scope="col" class="num">
                    {t('rows')}
                  </th>
                  <th scope="col">{t('started')}</th>
                  <th scope="col" class="num col-duration">
                    {t('duration')}
                  </th>
                </tr>
              </thead>
              <tbody>
                {jobs.map((j) => (
                  <JobRow key={j.id} job={j} names={names} open={j.id === openId} />
                ))}
              </tbody>
            </table>
          </div>
        )}
        {page && total > LIMIT && (
          // The page the server answered with (not the one asked for), so the words match the rows shown.
          <nav class="pager" aria-label={t('jobs')}>
            <button type="button" disabled={page.meta.offset === 0} onClick={() => setOffset(Math.max(0, page.meta.offset - LIMIT))}>
              {t('previous')}
            </button>
            <span aria-live="polite">{t('jobsPageOf', { from: page.meta.offset + 1, to: page.meta.offset + jobs.length, total })}</span>
            <button type="button" disabled={!page.meta.next} onClick={() => setOffset(page.meta.offset + LIMIT)}>
              {t('next')}
            </button>
          </nav>
        )}
      </section>
      {openId && (
        <JobPanel
          key={openId}
          id={openId}
          names={names}
          onClose={() => go('#/jobs')}
          onChange={(m) => {
            setNews(m);
            refresh();
          }}
        />
      )}
    </div>
  );
}

function JobRow({ job, names, open }: { job: Job; names: Map<number, string>; open: boolean }) {
  const label = jobLabel(job, names);
  const table = tableLabel(job, names);
  const running = job.status === 'running' || job.status === 'queued';
  return (
    <tr data-job-id={job.id} class={open ? 'open' : undefined} aria-current={open ? 'true' : undefined}>
      <th scope="row" class="nowrap">
        <a href={`#/jobs/${job.id}`} id={`job-link-${job.id}`} aria-label={t('detailsOf', { what: label })}>
          {word('ty_', job.type)}
        </a>
      </th>
      <td class="clip" title={table}>
        {job.table_id !== null && names.has(job.table_id) ? <a href={`#/table/${job.table_id}`}>{table}</a> : table}
      </td>
      <td class="clip col-file" title={fileLabel(job)}>
        {fileLabel(job)}
      </td>
      <td>
        <span class={`badge ${job.status}`} data-testid="status">
          {word('st_', job.status)}
        </span>
        {running && (
          <progress class="mini" max={100} value={job.progress} aria-label={`${t('progress')} ${label}`} title={`${job.progress}%`} />
        )}
      </td>
      <td class="num">{job.rows.toLocaleString(lang.get())}</td>
      <td class="nowrap">{job.started_at ? <When secs={job.started_at} compact /> : <span class="muted">—</span>}</td>
      <td class="num nowrap col-duration">
        <Duration start={job.started_at} end={job.finished_at} />
      </td>
    </tr>
  );
}

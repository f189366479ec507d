import { useEffect, useRef, useState } from 'preact/hooks';
import { api, isFinished, type Job } from '../api';
import { t, word } from '../i18n';
import { takeFlash } from '../route';
import { Notice, errorText, when } from '../ui';

const POLL_MS = 1000;

/** The caller's jobs, refreshed every second while any of them is still queued or running. */
export function JobsView() {
  const [jobs, setJobs] = useState<Job[] | null>(null);
  const [names, setNames] = useState<Map<number, string>>(new Map());
  const [error, setError] = useState<string | null>(null);
  const [news, setNews] = useState<string | null>(takeFlash());
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
    api.jobs().then(
      (page) => {
        if (!alive.current) return;
        setJobs(page.objects);
        setError(null);
        if (page.objects.some((j) => !isFinished(j))) timer = setTimeout(() => setTick((n) => n + 1), POLL_MS);
      },
      (err: unknown) => {
        if (!alive.current) return;
        setError(errorText(err));
        timer = setTimeout(() => setTick((n) => n + 1), POLL_MS * 5);
      },
    );
    return () => clearTimeout(timer);
  }, [tick]);

  const refresh = () => setTick((n) => n + 1);

  return (
    <>
      <div class="title-row">
        <h1 tabIndex={-1}>{t('jobs')}</h1>
        <button type="button" onClick={refresh}>
          {t('refresh')}
        </button>
      </div>
      {news && <Notice kind="ok">{news}</Notice>}
      {error && <Notice kind="error">{error}</Notice>}
      {jobs === null ? (
        <p>{t('loading')}</p>
      ) : jobs.length === 0 ? (
        <p>{t('noJobs')}</p>
      ) : (
        <ul class="jobs">
          {jobs.map((j) => (
            <JobCard
              key={j.id}
              job={j}
              table={names.get(j.table_id)}
              onChange={(msg) => {
                setNews(msg);
                refresh();
              }}
            />
          ))}
        </ul>
      )}
    </>
  );
}

function JobCard({ job, table, onChange }: { job: Job; table: string | undefined; onChange: (msg: string | null) => void }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const act = async (fn: () => Promise<string | null>) => {
    setBusy(true);
    setError(null);
    try {
      onChange(await fn());
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  const cancel = () =>
    act(async () => {
      await api.cancel(job.id);
      return null;
    });
  const retry = () => act(async () => t('retried', { id: (await api.retry(job.id)).job_id }));
  const label = `${word('ty_', job.type)} ${job.id}`;

  return (
    <li class={`job ${job.status}`} data-job-id={job.id} aria-label={label}>
      <div class="job-head">
        <strong>{word('ty_', job.type)}</strong>
        <span>{table ? <a href={`#/table/${job.table_id}`}>{table}</a> : `#${job.table_id}`}</span>
        {job.file_name && <span class="muted">{job.file_name}</span>}
        <span class={`badge ${job.status}`} data-testid="status">
          {word('st_', job.status)}
        </span>
        <span class="muted small">{when(job.created_at)}</span>
        <code class="muted small">{job.id}</code>
      </div>
      <div class="job-progress">
        {/* A failed or cancelled job's last percentage would only mislead. */}
        {job.status !== 'failed' && job.status !== 'cancelled' && (
          <>
            <progress max={100} value={job.progress} aria-label={`${t('progress')} ${label}`} />
            <span data-testid="progress">{job.progress}%</span>
          </>
        )}
        <span>
          {job.rows.toLocaleString()} {t('rowsUnit')}
        </span>
      </div>
      {job.dry_run && job.status === 'succeeded' && <p>{t('dryRunDone', { rows: job.rows })}</p>}
      {job.inferred_schema && (
        <p class="small">
          {t('inferredSchema')}: {job.inferred_schema.fields.map((f) => `${f.name} (${f.type})`).join(', ')}
        </p>
      )}
      <div class="job-actions">
        {job.file_url && (
          <a class="button primary" href={job.file_url} download={job.file_name ?? ''}>
            {t('download')}
          </a>
        )}
        {job.error_report_url && (
          <a class="button" href={job.error_report_url} download>
            {t('errorReport')}
          </a>
        )}
        {!isFinished(job) && (
          <button type="button" disabled={busy} onClick={() => void cancel()}>
            {t('cancel')}
          </button>
        )}
        {(job.status === 'failed' || job.status === 'cancelled') && (
          <button type="button" disabled={busy} onClick={() => void retry()}>
            {t('retry')}
          </button>
        )}
      </div>
      {error && <Notice kind="error">{error}</Notice>}
      {job.errors.length > 0 && (
        <div class="job-errors">
          <h3>{t('errors')}</h3>
          <ul>
            {job.errors.map((e) => (
              <li key={`${e.error_code}:${e.line ?? ''}:${e.field ?? ''}:${e.error_msg}`}>
                {/* The API's sentences usually name the line already; add it only when they do not. */}
                {e.line !== undefined && !e.error_msg.includes(`line ${e.line}`) && <span class="muted">{t('line', { n: e.line })}: </span>}
                {e.error_msg} <span class="muted small">({e.error_code})</span>
              </li>
            ))}
          </ul>
        </div>
      )}
    </li>
  );
}

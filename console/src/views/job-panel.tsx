import { Fragment } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, isFinished, type Job } from '../api';
import { lang, t, word } from '../i18n';
import { go } from '../route';
import { Duration, ErrorNotice, type Msg, msg, ServerText, When } from '../ui';
import { fileLabel, jobLabel, tableLabel } from './job-words';
import { useJob } from './use-job';

const POLL_MS = 1000;

/**
 * One job beside the jobs table: what it did, its errors and report, its links, and what can be
 * done with it (cancel, retry). Escape or Close goes back to the table, focus on the job's row.
 */
export function JobPanel({
  id,
  names,
  onClose,
  onChange,
}: {
  id: string;
  names: Map<number, string>;
  onClose: () => void;
  onChange: (m: Msg | null) => void;
}) {
  lang.use();
  const { job, error, refresh } = useJob(id, POLL_MS);
  const [actionError, setActionError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const heading = useRef<HTMLHeadingElement>(null);

  const loaded = job !== null;
  useEffect(() => {
    if (loaded) heading.current?.focus();
  }, [loaded]);

  // The jobs table puts the focus back on this job's link once the panel is gone.
  const close = onClose;

  const act = async (fn: () => Promise<Msg | null>) => {
    setBusy(true);
    setActionError(null);
    try {
      onChange(await fn());
      refresh();
    } catch (err) {
      setActionError(err);
    } finally {
      setBusy(false);
    }
  };
  const cancel = () =>
    act(async () => {
      await api.cancel(id);
      return msg('cancelled', { id });
    });
  const retry = () =>
    act(async () => {
      const created = await api.retry(id);
      go(`#/jobs/${created.job_id}`);
      return msg('retried', { id: created.job_id });
    });
  const undo = () => {
    if (!confirm(t('confirmUndo'))) return;
    void act(async () => {
      const created = await api.undo(id);
      go(`#/jobs/${created.job_id}`);
      return msg('undoQueued', { id: created.job_id });
    });
  };

  return (
    <aside
      class="job-panel card"
      aria-labelledby="job-panel-title"
      data-testid="job-panel"
      data-job-id={id}
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.preventDefault();
          close();
        }
      }}
    >
      <div class="title-row">
        <h2 id="job-panel-title" ref={heading} tabIndex={-1}>
          {job ? jobLabel(job, names) : t('jobDetails')}
        </h2>
        <button type="button" class="small" onClick={close}>
          {t('close')}
        </button>
      </div>
      <ErrorNotice error={error} />
      {!job ? (
        error ? null : (
          <p>{t('loading')}</p>
        )
      ) : (
        <JobDetails job={job} names={names} busy={busy} onCancel={cancel} onRetry={retry} onUndo={undo} actionError={actionError} />
      )}
    </aside>
  );
}

function JobDetails(p: {
  job: Job;
  names: Map<number, string>;
  busy: boolean;
  onCancel: () => void;
  onRetry: () => void;
  onUndo: () => void;
  actionError: unknown;
}) {
  const { job, names } = p;
  const l = lang.get();
  const table = tableLabel(job, names);
  const file = fileLabel(job);
  const cancellable = !isFinished(job);
  const retriable = (job.status === 'failed' || job.status === 'cancelled') && !job.type.startsWith('bundle_');
  // The server has the last word (a row changed since, retention): its 409 says why, shown below.
  const undoable = job.type === 'import' && job.status === 'succeeded' && !job.dry_run && !job.undone_by;
  const count = (n: number | undefined) => (n ?? 0).toLocaleString(l);
  const jobLink = (jid: string) => (
    <a href={`#/jobs/${jid}`}>
      <code class="small">{jid}</code>
    </a>
  );
  return (
    <>
      <p class="panel-status">
        <span class={`badge ${job.status}`} data-testid="status">
          {word('st_', job.status)}
        </span>{' '}
        {/* A failed or cancelled job's last percentage would only mislead. */}
        {job.status !== 'failed' && job.status !== 'cancelled' && (
          <>
            <progress max={100} value={job.progress} aria-label={t('progress')} /> <span data-testid="progress">{job.progress}%</span>
          </>
        )}
      </p>
      <dl class="facts">
        <dt>{t('type')}</dt>
        <dd>{word('ty_', job.type)}</dd>
        <dt>{t('table')}</dt>
        <dd>{job.table_id !== null && names.has(job.table_id) ? <a href={`#/table/${job.table_id}`}>{table}</a> : table}</dd>
        {file && (
          <>
            <dt>{job.destination_url ? t('destination') : job.source_url ? t('source') : t('file')}</dt>
            <dd class="break">{file}</dd>
          </>
        )}
        <dt>{t('rows')}</dt>
        <dd data-testid="rows">{job.rows.toLocaleString(l)}</dd>
        {(
          [
            ['inserted', job.inserted],
            ['updated', job.updated],
            ['skipped', job.skipped],
            ['deleted', job.deleted],
            ['restored', job.restored],
          ] as const
        ).map(([k, n]) =>
          n === undefined ? null : (
            <Fragment key={k}>
              <dt>{t(k)}</dt>
              <dd data-testid={k}>{count(n)}</dd>
            </Fragment>
          ),
        )}
        {job.schedule_id && (
          <>
            <dt>{t('schedule')}</dt>
            <dd>
              <a href={`#/schedules/${job.schedule_id}`} data-testid="schedule-link">
                {t('runsOfSchedule')}
              </a>
            </dd>
          </>
        )}
        {job.undo_of && (
          <>
            <dt>{t('undoOf')}</dt>
            <dd data-testid="undo-of">{jobLink(job.undo_of)}</dd>
          </>
        )}
        {job.undone_by && (
          <>
            <dt>{t('undoneBy')}</dt>
            <dd data-testid="undone-by">{jobLink(job.undone_by)}</dd>
          </>
        )}
        <dt>{t('queuedAt')}</dt>
        <dd>
          <When secs={job.created_at} />
        </dd>
        <dt>{t('started')}</dt>
        <dd>{job.started_at ? <When secs={job.started_at} /> : <span class="muted">{t('notStarted')}</span>}</dd>
        {job.finished_at && (
          <>
            <dt>{t('finishedAt')}</dt>
            <dd>
              <When secs={job.finished_at} />
            </dd>
          </>
        )}
        {job.started_at && (
          <>
            <dt>{t('duration')}</dt>
            <dd>
              <Duration start={job.started_at} end={job.finished_at} />
            </dd>
          </>
        )}
        {job.mail_status && (
          <>
            <dt>{t('mail')}</dt>
            <dd>{word('mail_', job.mail_status)}</dd>
          </>
        )}
        <dt>{t('jobId')}</dt>
        <dd>
          <code class="small">{job.id}</code>
        </dd>
      </dl>

      {(job.file_url || job.error_report_url) && (
        <section aria-label={t('links')} class="job-actions">
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
        </section>
      )}
      {(cancellable || retriable || undoable) && (
        <div class="job-actions">
          {cancellable && (
            <button type="button" disabled={p.busy} onClick={p.onCancel}>
              {t('cancel')}
            </button>
          )}
          {retriable && (
            <button type="button" disabled={p.busy} onClick={p.onRetry}>
              {t('retry')}
            </button>
          )}
          {undoable && (
            <button type="button" disabled={p.busy} onClick={p.onUndo}>
              {t('undo')}
            </button>
          )}
        </div>
      )}
      <ErrorNotice error={p.actionError} />

      {(job.dry_run || job.inferred_schema) && (
        <section class="job-report">
          <h3>{t('report')}</h3>
          {job.dry_run && job.status === 'succeeded' && <p>{t('dryRunDone', { rows: job.rows.toLocaleString(l) })}</p>}
          {job.inferred_schema && (
            <p class="small" data-testid="inferred-schema">
              {t('inferredSchema')}: {job.inferred_schema.fields.map((f) => `${f.name}: ${word('ft_', f.type)}`).join('; ')}
            </p>
          )}
        </section>
      )}
      {job.errors.length > 0 && (
        <section class="job-errors">
          <h3>{t('errors')}</h3>
          <ul>
            {job.errors.map((e) => (
              <li key={`${e.error_code}:${e.line ?? ''}:${e.field ?? ''}:${e.error_msg}`}>
                <ServerText
                  code={e.error_code}
                  message={e.error_msg}
                  prefix={
                    // The API's English sentences usually name the line already; the Chinese ones never do.
                    e.line === undefined || (l !== 'zh-CN' && e.error_msg.includes(`line ${e.line}`))
                      ? undefined
                      : `${e.field ? t('lineField', { n: e.line, field: e.field }) : t('line', { n: e.line })}: `
                  }
                />
              </li>
            ))}
          </ul>
        </section>
      )}
    </>
  );
}

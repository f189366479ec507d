import { isFinished } from '../api';
import { lang, t, word } from '../i18n';
import { ErrorNotice, ServerText } from '../ui';
import { useJob } from './use-job';

const POLL_MS = 500;

/** Cells as the records page shows them: objects and arrays as JSON, nothing for null. */
const cell = (v: unknown): string => (v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));

/**
 * A dry run of the import (`dry_run=true`), followed to its end: what it would do (inserted,
 * updated, skipped), the first rows as they would be stored with each field's file column, the
 * columns dropped, or why the file would be refused. Nothing is written.
 */
export function DryRunPreview({ id }: { id: string }) {
  lang.use();
  const { job, error } = useJob(id, POLL_MS);

  const l = lang.get();
  const preview = job?.preview;
  return (
    <section class="card preview" aria-labelledby={`preview-${id}`} data-testid="preview" data-job-id={id}>
      <h3 id={`preview-${id}`}>{t('previewTitle')}</h3>
      <ErrorNotice error={error} />
      {!job || !isFinished(job) ? (
        <p aria-live="polite">{t('previewRunning')}</p>
      ) : job.status !== 'succeeded' ? (
        <div role="alert">
          <p>
            <span class={`badge ${job.status}`} data-testid="status">
              {word('st_', job.status)}
            </span>{' '}
            {t('previewRefused')}
          </p>
          <ul>
            {job.errors.map((e) => (
              <li key={`${e.error_code}:${e.line ?? ''}:${e.field ?? ''}:${e.error_msg}`}>
                <ServerText code={e.error_code} message={e.error_msg} />
              </li>
            ))}
          </ul>
        </div>
      ) : (
        <>
          <p data-testid="preview-counts">
            {t('previewCounts', {
              inserted: (job.inserted ?? job.rows).toLocaleString(l),
              updated: (job.updated ?? 0).toLocaleString(l),
              skipped: (job.skipped ?? 0).toLocaleString(l),
            })}
          </p>
          {preview?.dropped && preview.dropped.length > 0 && (
            <p data-testid="preview-dropped">
              {t('previewDropped')}: {preview.dropped.join(', ')}
            </p>
          )}
          {preview && (
            <div class="scroll">
              <table class="grid dense" aria-labelledby={`preview-${id}`}>
                <thead>
                  <tr>
                    {preview.columns.map((c) => (
                      <th scope="col" key={c.field} data-field={c.field}>
                        <code>{c.field}</code>
                        <span class="muted small">
                          {' '}
                          ← {c.source === null ? t('notInFile') : <span data-testid="source">{c.source}</span>}
                        </span>
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {preview.rows.map((r, i) => (
                    <tr key={i}>
                      {preview.columns.map((c) => (
                        <td key={c.field}>{cell(r[c.field])}</td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <p class="help">{t('previewNothingWritten')}</p>
        </>
      )}
    </section>
  );
}

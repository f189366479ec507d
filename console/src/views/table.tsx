import { useEffect, useState } from 'preact/hooks';
import { api, type Field, type Page, type Row, type Table } from '../api';
import { t } from '../i18n';
import { go, setFlash } from '../route';
import { ErrorNotice, msg, When } from '../ui';
import { ExportForm } from './export-form';
import { ImportPanel } from './import-panel';
import { wherePlaceholder } from './where-example';

const LIMIT = 20;
type Tab = 'browse' | 'import' | 'export';

export function TableView({ id }: { id: string }) {
  const [table, setTable] = useState<Table | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [tab, setTab] = useState<Tab>('browse');

  useEffect(() => {
    api.table(id).then(setTable, (err: unknown) => setError(err));
  }, [id]);
  // The heading appears only once the table is loaded; focus it then, as the app does on every page change.
  const loaded = table !== null;
  useEffect(() => {
    if (loaded) document.querySelector<HTMLElement>('main h1')?.focus();
  }, [loaded]);

  const queued = (key: 'exportQueued' | 'importQueued') => (jobId: string) => {
    setFlash(msg(key, { id: jobId }));
    go('#/jobs');
  };

  if (!table) return error ? <ErrorNotice error={error} /> : <p>{t('loading')}</p>;
  const tabs: Tab[] = ['browse', 'import', 'export'];
  return (
    <>
      <p>
        <a href="#/tables">← {t('back')}</a>
      </p>
      <h1 tabIndex={-1}>
        {table.name}{' '}
        <span class="muted">
          · {table.row_count.toLocaleString()} {t('rowsUnit')}
        </span>
      </h1>
      <div class="tabs" role="tablist" aria-label={table.name}>
        {tabs.map((k) => (
          <button
            key={k}
            type="button"
            role="tab"
            id={`tab-${k}`}
            aria-selected={tab === k}
            aria-controls={`panel-${k}`}
            tabIndex={tab === k ? 0 : -1}
            onClick={() => setTab(k)}
            onKeyDown={(e) => {
              // Arrow keys move between tabs, as the ARIA tabs pattern expects.
              const step = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
              if (!step) return;
              const next = tabs[(tabs.indexOf(k) + step + tabs.length) % tabs.length] ?? 'browse';
              setTab(next);
              document.getElementById(`tab-${next}`)?.focus();
            }}
          >
            {t(k)}
          </button>
        ))}
      </div>
      <section role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`} class="card">
        {tab === 'browse' && <Rows table={table} />}
        {tab === 'import' && <ImportPanel table={table} onQueued={queued('importQueued')} />}
        {tab === 'export' && (
          <ExportForm
            table={table}
            onQueued={queued('exportQueued')}
            onScheduled={(sc) => {
              setFlash(msg('scheduleCreated', { what: table.name }));
              go(`#/schedules/${sc.id}`);
            }}
          />
        )}
      </section>
    </>
  );
}

function Rows({ table }: { table: Table }) {
  const [offset, setOffset] = useState(0);
  const [where, setWhere] = useState('');
  const [orderBy, setOrderBy] = useState('');
  const [applied, setApplied] = useState({ where: '', orderBy: '' });
  const [page, setPage] = useState<Page<Row> | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    setError(null);
    api
      .rows(table.id, { limit: LIMIT, offset, where: applied.where || undefined, order_by: applied.orderBy || undefined })
      .then(setPage, (err: unknown) => setError(err));
  }, [table.id, offset, applied]);

  const apply = (e: Event) => {
    e.preventDefault();
    setOffset(0);
    setApplied({ where: where.trim(), orderBy: orderBy.trim() });
  };
  const cols = ['id', ...table.schema.fields.map((f) => f.name), 'created_at', 'updated_at'];
  const kinds = columnKinds(table.schema.fields);
  const total = page?.meta.total_count ?? 0;

  return (
    <>
      <form class="filter" onSubmit={apply}>
        <span>
          <label for="rows-where">{t('where')}</label>
          <input
            id="rows-where"
            value={where}
            placeholder={wherePlaceholder(table.schema.fields)}
            spellcheck={false}
            onInput={(e) => setWhere(e.currentTarget.value)}
          />
        </span>
        <span>
          <label for="rows-order">{t('orderBy')}</label>
          <input id="rows-order" value={orderBy} placeholder="-created_at" onInput={(e) => setOrderBy(e.currentTarget.value)} />
        </span>
        <button type="submit">{t('apply')}</button>
      </form>
      <ErrorNotice error={error} />
      {page && page.objects.length === 0 && <p>{t('noRows')}</p>}
      {page && page.objects.length > 0 && (
        <div class="scroll">
          <table class="grid" aria-label={table.name}>
            <thead>
              <tr>
                {cols.map((c) => (
                  <th scope="col" key={c}>
                    {c}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {page.objects.map((row) => (
                <tr key={String(row.id)}>
                  {cols.map((c) => (
                    <td key={c} class={kinds.get(c) === 'time' ? 'nowrap' : undefined}>
                      <Cell value={row[c]} kind={kinds.get(c)} />
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {page && total > 0 && (
        <nav class="pager" aria-label={t('rows')}>
          <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - LIMIT))}>
            {t('previous')}
          </button>
          <span aria-live="polite">{t('pageOf', { from: page.meta.offset + 1, to: page.meta.offset + page.objects.length, total })}</span>
          <button type="button" disabled={offset + LIMIT >= total} onClick={() => setOffset(offset + LIMIT)}>
            {t('next')}
          </button>
        </nav>
      )}
    </>
  );
}

const cell = (v: unknown): string => (v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));

/** `created_at`/`updated_at` are Unix seconds; a `date` field is ISO 8601 text: both are shown as local times. */
function columnKinds(fields: Field[]): Map<string, 'time' | 'date'> {
  const kinds = new Map<string, 'time' | 'date'>([
    ['created_at', 'time'],
    ['updated_at', 'time'],
  ]);
  for (const f of fields) if (f.type === 'date') kinds.set(f.name, 'date');
  return kinds;
}

function Cell({ value, kind }: { value: unknown; kind: 'time' | 'date' | undefined }) {
  if (kind === 'time' && typeof value === 'number') return <When secs={value} />;
  if (kind === 'date' && typeof value === 'string') {
    const ms = Date.parse(value);
    if (!Number.isNaN(ms)) return <When secs={ms / 1000} />;
  }
  return <>{cell(value)}</>;
}

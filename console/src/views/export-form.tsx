import { useState } from 'preact/hooks';
import { api, type Schedule, type Table } from '../api';
import { t } from '../i18n';
import { ErrorNotice, LocalError, list } from '../ui';
import { newTiming, ScheduleFields, type ScheduleTiming, timingBody } from './schedule-fields';
import { wherePlaceholder } from './where-example';

const FILE_TYPES = ['csv', 'json', 'ndjson', 'parquet', 'xlsx', 'sql'] as const;

/** `datetime-local` text (the user's time zone) → Unix seconds. */
const secs = (local: string): number | undefined => (local ? Math.floor(new Date(local).getTime() / 1000) : undefined);

/** Every parameter of `POST /table/:id/export/`; empty inputs are left out so the API's defaults apply. */
export function ExportForm({
  table,
  onQueued,
  onScheduled,
}: {
  table: Table;
  onQueued: (jobId: string) => void;
  onScheduled: (s: Schedule) => void;
}) {
  const [fileType, setFileType] = useState<string>('csv');
  const [mode, setMode] = useState<'all' | 'part'>('all');
  const [start, setStart] = useState('');
  const [end, setEnd] = useState('');
  const [compression, setCompression] = useState('none');
  const [delimiter, setDelimiter] = useState(',');
  const [header, setHeader] = useState(true);
  const [bom, setBom] = useState(false);
  // On by default here: a person exporting from the console most likely opens the file in a spreadsheet.
  const [escapeFormulas, setEscapeFormulas] = useState(true);
  const [where, setWhere] = useState('');
  const [include, setInclude] = useState('');
  const [exclude, setExclude] = useState('');
  const [orderBy, setOrderBy] = useState('');
  const [headers, setHeaders] = useState('');
  const [tsKeys, setTsKeys] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [scheduling, setScheduling] = useState(false);
  const [timing, setTiming] = useState<ScheduleTiming>(newTiming);

  /** The export's parameters from the form; `null` (with the error shown) when one is not right. */
  const params = (): Record<string, unknown> | null => {
    const body: Record<string, unknown> = { file_type: fileType, mode };
    if (mode === 'part') {
      body.start = secs(start);
      body.end = secs(end);
    }
    if (compression !== 'none') body.compression = compression;
    if (fileType === 'csv') {
      if (delimiter !== ',') body.csv_delimiter = delimiter === 'tab' ? '\t' : delimiter;
      if (!header) body.csv_header = false;
      if (bom) body.csv_bom = true;
      if (escapeFormulas) body.csv_escape_formulas = true;
      body.csv_customize_headers = list(headers);
    }
    if (where.trim()) {
      try {
        body.where = JSON.parse(where);
      } catch {
        setError(new LocalError('whereNotJson', { example: wherePlaceholder(table.schema.fields) }));
        return null;
      }
    }
    body.include_keys = list(include);
    body.exclude_keys = list(exclude);
    body.order_by = list(orderBy);
    body.timestamp_convert_keys = list(tsKeys);
    return body;
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    const body = params();
    if (!body) return;
    setBusy(true);
    try {
      onQueued((await api.export(table.id, body)).job_id);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const schedule = async () => {
    setError(null);
    const body = params();
    if (!body) return;
    // What a run exports is the schedule's `mode` (all rows, or what changed since the last run), not a time window.
    delete body.mode;
    delete body.start;
    delete body.end;
    setBusy(true);
    try {
      onScheduled(
        await api.createSchedule({
          table_id: table.id,
          ...timingBody(timing),
          mode: timing.mode,
          export: body,
        }),
      );
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const text = (id: string, label: string, value: string, set: (v: string) => void, placeholder = '') => (
    <>
      <label for={id}>{label}</label>
      <input id={id} value={value} placeholder={placeholder} onInput={(e) => set(e.currentTarget.value)} />
    </>
  );

  return (
    <form onSubmit={submit} class="export options">
      <label for="exp-type">{t('fileType')}</label>
      <select id="exp-type" value={fileType} onChange={(e) => setFileType(e.currentTarget.value)}>
        {FILE_TYPES.map((ft) => (
          <option key={ft} value={ft}>
            {ft}
          </option>
        ))}
      </select>
      <fieldset>
        <legend>{t('mode')}</legend>
        <label class="check">
          <input type="radio" name="exp-mode" value="all" checked={mode === 'all'} onChange={() => setMode('all')} /> {t('modeAll')}
        </label>
        <label class="check">
          <input type="radio" name="exp-mode" value="part" checked={mode === 'part'} onChange={() => setMode('part')} /> {t('modePart')}
        </label>
        {mode === 'part' && (
          <div class="pair">
            <span>
              <label for="exp-start">{t('start')}</label>
              <input id="exp-start" type="datetime-local" step="1" value={start} onInput={(e) => setStart(e.currentTarget.value)} />
            </span>
            <span>
              <label for="exp-end">{t('end')}</label>
              <input id="exp-end" type="datetime-local" step="1" value={end} onInput={(e) => setEnd(e.currentTarget.value)} />
            </span>
          </div>
        )}
      </fieldset>
      <label for="exp-compression">{t('compression')}</label>
      <select id="exp-compression" value={compression} onChange={(e) => setCompression(e.currentTarget.value)}>
        <option value="none">{t('compressionNone')}</option>
        <option value="gzip">gzip</option>
      </select>
      {fileType === 'csv' && (
        <fieldset>
          <legend>{t('csvOptions')}</legend>
          <label for="exp-delim">{t('delimiter')}</label>
          <select id="exp-delim" value={delimiter} onChange={(e) => setDelimiter(e.currentTarget.value)}>
            <option value=",">,</option>
            <option value=";">;</option>
            <option value="tab">{t('tab')}</option>
            <option value="|">|</option>
          </select>
          <label class="check">
            <input type="checkbox" checked={header} onChange={(e) => setHeader(e.currentTarget.checked)} /> {t('header')}
          </label>
          <label class="check">
            <input type="checkbox" checked={bom} onChange={(e) => setBom(e.currentTarget.checked)} /> {t('bom')}
          </label>
          <label class="check">
            <input type="checkbox" checked={escapeFormulas} onChange={(e) => setEscapeFormulas(e.currentTarget.checked)} />{' '}
            {t('escapeFormulas')}
          </label>
          {text('exp-headers', t('customHeaders'), headers, setHeaders)}
        </fieldset>
      )}
      <fieldset>
        <legend>{t('selection')}</legend>
        <label for="exp-where">{t('where')}</label>
        <textarea
          id="exp-where"
          rows={2}
          value={where}
          placeholder={wherePlaceholder(table.schema.fields)}
          spellcheck={false}
          onInput={(e) => setWhere(e.currentTarget.value)}
        />
        {text('exp-include', t('includeKeys'), include, setInclude)}
        {text('exp-exclude', t('excludeKeys'), exclude, setExclude)}
        {text('exp-order', t('orderByList'), orderBy, setOrderBy, '-created_at')}
        {text('exp-ts', t('timestampKeys'), tsKeys, setTsKeys, 'created_at')}
      </fieldset>
      <ErrorNotice error={error} />
      <button type="submit" class="primary" disabled={busy}>
        {t('startExport')}
      </button>
      <details class="schedule" open={scheduling} onToggle={(e) => setScheduling(e.currentTarget.open)}>
        <summary>{t('scheduleThis')}</summary>
        <p class="help">{t('scheduleHelp')}</p>
        <ScheduleFields idPrefix="sch" value={timing} onChange={setTiming} />
        <button type="button" disabled={busy} onClick={() => void schedule()}>
          {t('createSchedule')}
        </button>
      </details>
    </form>
  );
}

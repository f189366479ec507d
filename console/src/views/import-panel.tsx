import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type Table } from '../api';
import { t, word } from '../i18n';
import { ErrorNotice, size } from '../ui';
import { fileColumns } from './file-columns';
import { MappingEditor, mappingOf } from './import-mapping';
import { DryRunPreview } from './import-preview';

/**
 * Drop a file (or pick one) and start an import: into `table` when given, otherwise into a new
 * table whose schema the server infers from the file (`POST /table/import/` with `name`).
 */
export function ImportPanel({ table, onQueued }: { table?: Table; onQueued: (jobId: string) => void }) {
  const [file, setFile] = useState<File | null>(null);
  const [over, setOver] = useState(false);
  const [name, setName] = useState('');
  const [delimiter, setDelimiter] = useState('');
  const [header, setHeader] = useState(true);
  const [columns, setColumns] = useState('');
  const [onConflict, setOnConflict] = useState('error');
  const [conflictKey, setConflictKey] = useState('');
  const [fileCols, setFileCols] = useState<string[] | null>(null);
  /** File column → field, or the drop choice; a column not here keeps its name. */
  const [mapping, setMapping] = useState<Record<string, string>>({});
  const [previewId, setPreviewId] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const idp = table ? `imp-${table.id}` : 'imp-new';

  const pick = (f: File | undefined | null) => {
    if (f) {
      setFile(f);
      setError(null);
      setMapping({});
      setPreviewId(null);
    }
  };
  // The mapping editor needs the file's columns: read from its first bytes, here in the browser.
  useEffect(() => {
    let alive = true;
    if (!file || !table) setFileCols(null);
    else
      fileColumns(file, { delimiter, header, columns }).then(
        (cols) => alive && setFileCols(cols),
        () => alive && setFileCols(null),
      );
    return () => {
      alive = false;
    };
  }, [file, table, delimiter, header, columns]);
  const drop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    pick(e.dataTransfer?.files[0]);
  };

  const start = async (dryRun: boolean) => {
    if (!file) return;
    const form = new FormData();
    if (!table) form.set('name', name.trim());
    if (delimiter) form.set('csv_delimiter', delimiter === 'tab' ? '\t' : delimiter);
    if (!header) {
      form.set('csv_header', 'false');
      if (columns.trim()) form.set('columns', columns.trim());
    }
    if (onConflict !== 'error') {
      form.set('on_conflict', onConflict);
      if (conflictKey.trim()) form.set('conflict_key', conflictKey.trim());
    }
    const mapped = mappingOf(mapping);
    if (mapped) form.set('mapping', JSON.stringify(mapped));
    if (dryRun) form.set('dry_run', 'true');
    form.set('file', file, file.name);
    setBusy(true);
    setError(null);
    try {
      const res = table ? await api.import(table.id, form) : await api.importNew(form);
      if (dryRun) setPreviewId(res.job_id);
      else onQueued(res.job_id);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      class="import"
      onSubmit={(e) => {
        e.preventDefault();
        void start(false);
      }}
    >
      {table && (
        <div class="schema-hint">
          <p class="help">{t('targetSchema')}</p>
          <ul class="chips" aria-label={t('schema')}>
            {table.schema.fields.map((f) => (
              <li key={f.name}>
                <code>{f.name}</code> <span class="type">{f.type}</span>
              </li>
            ))}
          </ul>
        </div>
      )}
      {!table && (
        <>
          <label for={`${idp}-name`}>{t('tableName')}</label>
          <input
            id={`${idp}-name`}
            value={name}
            required
            pattern="[A-Za-z_][A-Za-z0-9_]*"
            onInput={(e) => setName(e.currentTarget.value)}
          />
        </>
      )}
      <section
        class={`dropzone${over ? ' over' : ''}${file ? ' has-file' : ''}`}
        aria-label={t('dropHere')}
        data-testid={`${idp}-dropzone`}
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragEnter={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={drop}
      >
        <p>{t('dropHere')}</p>
        <label for={`${idp}-file`} class="pick">
          {t('orPick')}
        </label>
        <input
          id={`${idp}-file`}
          ref={input}
          type="file"
          accept=".csv,.tsv,.txt,.json,.ndjson,.jsonl,.parquet,.xlsx,.gz"
          onChange={(e) => pick(e.currentTarget.files?.[0])}
        />
        {file && (
          <p class="chosen" aria-live="polite">
            {t('chosen', { name: file.name, size: size(file.size) })}
          </p>
        )}
      </section>
      <details>
        <summary>{t('importOptions')}</summary>
        <div class="options">
          <label for={`${idp}-delim`}>{t('delimiter')}</label>
          <select id={`${idp}-delim`} value={delimiter} onChange={(e) => setDelimiter(e.currentTarget.value)}>
            <option value="">{t('detect')}</option>
            <option value=",">,</option>
            <option value=";">;</option>
            <option value="tab">{t('tab')}</option>
            <option value="|">|</option>
          </select>
          <label class="check">
            <input type="checkbox" checked={header} onChange={(e) => setHeader(e.currentTarget.checked)} /> {t('headerTrue')}
          </label>
          {!header && (
            <>
              <label for={`${idp}-cols`}>{t('columns')}</label>
              <input id={`${idp}-cols`} value={columns} onInput={(e) => setColumns(e.currentTarget.value)} />
            </>
          )}
          <label for={`${idp}-conflict`}>{t('onConflict')}</label>
          <select id={`${idp}-conflict`} value={onConflict} onChange={(e) => setOnConflict(e.currentTarget.value)}>
            {(['error', 'skip', 'update'] as const).map((c) => (
              <option key={c} value={c}>
                {word('conflict_', c)}
              </option>
            ))}
          </select>
          {onConflict !== 'error' && (
            <>
              <label for={`${idp}-key`}>{t('conflictKey')}</label>
              <input
                id={`${idp}-key`}
                value={conflictKey}
                list={table ? `${idp}-fields` : undefined}
                onInput={(e) => setConflictKey(e.currentTarget.value)}
              />
              {table && (
                <datalist id={`${idp}-fields`}>
                  {table.schema.fields.map((f) => (
                    <option key={f.name} value={f.name} />
                  ))}
                </datalist>
              )}
            </>
          )}
        </div>
      </details>
      {table && fileCols && fileCols.length > 0 && (
        <MappingEditor
          idp={idp}
          columns={fileCols}
          fields={table.schema.fields.map((f) => f.name)}
          mapping={mapping}
          onChange={(m) => {
            setMapping(m);
            setPreviewId(null);
          }}
        />
      )}
      <ErrorNotice error={error} />
      <div class="job-actions">
        <button type="button" disabled={!file || busy} onClick={() => void start(true)}>
          {t('previewDryRun')}
        </button>
        <button type="submit" class="primary" disabled={!file || busy}>
          {t('startImport')}
        </button>
      </div>
      {previewId && <DryRunPreview key={previewId} id={previewId} />}
    </form>
  );
}

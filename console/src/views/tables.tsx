import { useEffect, useState } from 'preact/hooks';
import { FIELD_TYPES, api, type Field, type FieldType, type Table } from '../api';
import { t, word } from '../i18n';
import { go, setFlash, takeFlash } from '../route';
import { ErrorNotice, msg, News, When } from '../ui';
import { ImportPanel } from './import-panel';

export function TablesView() {
  const [tables, setTables] = useState<Table[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [news, setNews] = useState(takeFlash());

  const load = async () => {
    try {
      setTables((await api.tables()).objects);
    } catch (err) {
      setError(err);
    }
  };
  useEffect(() => {
    void load();
  }, []);

  const remove = async (table: Table) => {
    if (!confirm(t('confirmDelete', { name: table.name }))) return;
    try {
      await api.deleteTable(table.id);
      setNews(null);
      await load();
    } catch (err) {
      setError(err);
    }
  };

  return (
    <>
      <h1 tabIndex={-1}>{t('tables')}</h1>
      <News news={news} />
      <ErrorNotice error={error} />
      {/* One stable box for the list, so the forms below keep their state (a dropped file) when it loads. */}
      <div class="tables-list">
        {tables === null ? (
          <p>{t('loading')}</p>
        ) : tables.length === 0 ? (
          <p>{t('noTables')}</p>
        ) : (
          <div class="scroll">
            <table class="grid" aria-label={t('tables')}>
              <thead>
                <tr>
                  <th scope="col">{t('name')}</th>
                  <th scope="col" class="num">
                    {t('rows')}
                  </th>
                  <th scope="col">{t('created')}</th>
                  <th scope="col">{t('actions')}</th>
                </tr>
              </thead>
              <tbody>
                {tables.map((tb) => (
                  <tr key={tb.id}>
                    <th scope="row">
                      <a href={`#/table/${tb.id}`}>{tb.name}</a>
                    </th>
                    <td class="num" data-testid={`row-count-${tb.name}`}>
                      {tb.row_count.toLocaleString()}
                    </td>
                    <td>
                      <When secs={tb.created_at} />
                    </td>
                    <td>
                      <button type="button" class="danger small" onClick={() => void remove(tb)} aria-label={`${t('delete')} ${tb.name}`}>
                        {t('delete')}
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
      <div class="columns">
        <NewTableForm onCreated={(tb) => go(`#/table/${tb.id}`)} />
        <section class="card">
          <h2>{t('importNew')}</h2>
          <p class="help">{t('importNewHelp')}</p>
          <ImportPanel
            onQueued={(id) => {
              setFlash(msg('importQueued', { id }));
              go('#/jobs');
            }}
          />
        </section>
      </div>
    </>
  );
}

interface DraftField extends Field {
  key: number;
}
let nextKey = 0;
const draft = (): DraftField => ({ key: nextKey++, name: '', type: 'string' });

function NewTableForm({ onCreated }: { onCreated: (t: Table) => void }) {
  const [name, setName] = useState('');
  // Each row keeps a key of its own so removing one keeps the others' inputs (and focus) in place.
  const [fields, setFields] = useState<DraftField[]>([draft()]);
  const [error, setError] = useState<unknown>(null);

  const update = (i: number, patch: Partial<DraftField>) => setFields(fields.map((f, j) => (j === i ? { ...f, ...patch } : f)));
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      const schema = { fields: fields.filter((f) => f.name.trim()).map((f): Field => ({ name: f.name.trim(), type: f.type })) };
      onCreated(await api.createTable(name.trim(), schema));
    } catch (err) {
      setError(err);
    }
  };

  return (
    <section class="card">
      <h2>{t('newTable')}</h2>
      <form onSubmit={submit}>
        <label for="new-table-name">{t('name')}</label>
        <input id="new-table-name" value={name} required onInput={(e) => setName(e.currentTarget.value)} />
        <fieldset>
          <legend>{t('fields')}</legend>
          {fields.map((f, i) => (
            <div class="field-row" key={f.key}>
              <label class="sr-only" for={`field-name-${i}`}>{`${t('field')} ${i + 1}`}</label>
              <input
                id={`field-name-${i}`}
                placeholder={t('field')}
                value={f.name}
                onInput={(e) => update(i, { name: e.currentTarget.value })}
              />
              <label class="sr-only" for={`field-type-${i}`}>{`${t('type')} ${i + 1}`}</label>
              <select id={`field-type-${i}`} value={f.type} onChange={(e) => update(i, { type: e.currentTarget.value as FieldType })}>
                {FIELD_TYPES.map((ty) => (
                  <option key={ty} value={ty}>
                    {word('ft_', ty)}
                  </option>
                ))}
              </select>
              <button
                type="button"
                class="small"
                aria-label={`${t('removeField')} ${i + 1}`}
                disabled={fields.length === 1}
                onClick={() => setFields(fields.filter((_, j) => j !== i))}
              >
                ×
              </button>
            </div>
          ))}
          <button type="button" class="small" onClick={() => setFields([...fields, draft()])}>
            {t('addField')}
          </button>
        </fieldset>
        <ErrorNotice error={error} />
        <button type="submit" class="primary">
          {t('create')}
        </button>
      </form>
    </section>
  );
}

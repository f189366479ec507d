import { t } from '../i18n';

/** The editor's choice for a column the import leaves out (`null` in `mapping`). */
export const DROP = '\u0000drop';

/** The editor's choices as the API's `mapping` (column → field or `null`), or `undefined` when every column keeps its name. */
export function mappingOf(choices: Record<string, string>): Record<string, string | null> | undefined {
  const out: Record<string, string | null> = {};
  for (const [col, to] of Object.entries(choices)) {
    if (to === DROP) out[col] = null;
    else if (to && to !== col) out[col] = to;
  }
  return Object.keys(out).length ? out : undefined;
}

/**
 * Each column of the file and the field it fills: its own name (the default), another field, or
 * dropped. The server checks the result (a field filled twice, a column that is not a field) and
 * says so; the preview shows what it made of it.
 */
export function MappingEditor(p: {
  idp: string;
  columns: string[];
  fields: string[];
  mapping: Record<string, string>;
  onChange: (m: Record<string, string>) => void;
}) {
  return (
    <fieldset class="mapping" data-testid="mapping">
      <legend>{t('mapping')}</legend>
      <p class="help">{t('mappingHelp')}</p>
      <div class="scroll">
        <table class="grid dense">
          <thead>
            <tr>
              <th scope="col">{t('fileColumn')}</th>
              <th scope="col">{t('field')}</th>
            </tr>
          </thead>
          <tbody>
            {p.columns.map((col, i) => {
              const id = `${p.idp}-map-${i}`;
              const chosen = p.mapping[col] ?? '';
              return (
                <tr key={col}>
                  <th scope="row">
                    <label for={id}>
                      <code>{col}</code>
                    </label>
                  </th>
                  <td>
                    <select id={id} value={chosen} onChange={(e) => p.onChange({ ...p.mapping, [col]: e.currentTarget.value })}>
                      <option value="">
                        {p.fields.includes(col) ? t('sameName', { name: col }) : t('sameNameNoField', { name: col })}
                      </option>
                      {p.fields
                        .filter((f) => f !== col)
                        .map((f) => (
                          <option key={f} value={f}>
                            {f}
                          </option>
                        ))}
                      <option value={DROP}>{t('dropColumn')}</option>
                    </select>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </fieldset>
  );
}

import { t } from '../i18n';

/**
 * When a schedule runs (`every`, or `cron` in a `timezone`) and, for one table, what each run
 * exports (`mode`): the fields "Schedule this export" and a schedule's Edit form share.
 */
export interface ScheduleTiming {
  how: 'every' | 'cron';
  every: string;
  cron: string;
  timezone: string;
  mode: 'all' | 'changes';
}

const EVERY_EXAMPLE = '1h';
const CRON_EXAMPLE = '0 3 * * *';
const TIMEZONE_EXAMPLE = 'Asia/Shanghai';

/** The browser's time zone: what a person most likely means by "at 3 o'clock". */
export const browserTimezone = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

/** A new schedule's fields: every hour, or 03:00 in the browser's time zone; all rows. */
export const newTiming = (): ScheduleTiming => ({
  how: 'every',
  every: EVERY_EXAMPLE,
  cron: CRON_EXAMPLE,
  timezone: browserTimezone(),
  mode: 'all',
});

/** The request's timing: `every`, or `cron` with its `timezone` (`POST` and `PATCH /schedules` take the same). */
export const timingBody = (v: ScheduleTiming): { every: string } | { cron: string; timezone: string } =>
  v.how === 'every' ? { every: v.every.trim() } : { cron: v.cron.trim(), timezone: v.timezone.trim() };

/**
 * The fields themselves. `idPrefix` keeps the ids (and the radio group's name) apart when two
 * forms could be on a page; `withMode: false` for a bundle, which is exported whole.
 */
export function ScheduleFields({
  idPrefix,
  value,
  onChange,
  withMode = true,
}: {
  idPrefix: string;
  value: ScheduleTiming;
  onChange: (v: ScheduleTiming) => void;
  withMode?: boolean;
}) {
  const set = (patch: Partial<ScheduleTiming>) => onChange({ ...value, ...patch });
  const text = (id: string, label: string, current: string, placeholder: string, patch: (v: string) => Partial<ScheduleTiming>) => (
    <>
      <label for={id}>{label}</label>
      <input id={id} value={current} placeholder={placeholder} spellcheck={false} onInput={(e) => set(patch(e.currentTarget.value))} />
    </>
  );
  return (
    <>
      <fieldset>
        <legend>{t('when')}</legend>
        <label class="check">
          <input type="radio" name={`${idPrefix}-how`} checked={value.how === 'every'} onChange={() => set({ how: 'every' })} />{' '}
          {t('scheduleEvery')}
        </label>
        <label class="check">
          <input type="radio" name={`${idPrefix}-how`} checked={value.how === 'cron'} onChange={() => set({ how: 'cron' })} />{' '}
          {t('scheduleCron')}
        </label>
        {value.how === 'every'
          ? text(`${idPrefix}-every`, t('interval'), value.every, EVERY_EXAMPLE, (every) => ({ every }))
          : text(`${idPrefix}-cron`, t('cronPattern'), value.cron, CRON_EXAMPLE, (cron) => ({ cron }))}
        {value.how === 'cron' && text(`${idPrefix}-tz`, t('timezone'), value.timezone, TIMEZONE_EXAMPLE, (timezone) => ({ timezone }))}
      </fieldset>
      {withMode && (
        <>
          <label for={`${idPrefix}-mode`}>{t('scheduleMode')}</label>
          <select
            id={`${idPrefix}-mode`}
            value={value.mode}
            onChange={(e) => set({ mode: e.currentTarget.value === 'changes' ? 'changes' : 'all' })}
          >
            <option value="all">{t('scheduleAll')}</option>
            <option value="changes">{t('scheduleChanges')}</option>
          </select>
        </>
      )}
    </>
  );
}

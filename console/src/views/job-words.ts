// How a job is named in the jobs table, its panel and for screen readers, in the current language.
import type { Job } from '../api';
import { t, word } from '../i18n';

const SHOWN_TABLES = 3;

/** The table a job worked on; a bundle's tables in words (never `#null`). */
export function tableLabel(job: Job, names: Map<number, string>): string {
  if (job.type === 'bundle_export') {
    const tables = job.tables ?? [];
    if (tables.length === 0) return t('bundleNoTables');
    const shown = tables.slice(0, SHOWN_TABLES).join(', ') + (tables.length > SHOWN_TABLES ? ', …' : '');
    return tables.length === 1 ? t('bundleOneTable', { names: shown }) : t('bundleTables', { n: tables.length, names: shown });
  }
  if (job.type === 'bundle_import') return job.file_name ? t('bundleFromFile', { file: job.file_name }) : t('bundleImportTables');
  if (job.table_id === null) return '';
  return names.get(job.table_id) ?? job.table_name ?? t('tableGone', { id: job.table_id });
}

/** "export · people": what a screen reader says for the row's link and the panel's heading. */
export const jobLabel = (job: Job, names: Map<number, string>): string => `${word('ty_', job.type)} · ${tableLabel(job, names)}`;

/** The file a job wrote or read: its name, or the object at a location. */
export const fileLabel = (job: Job): string => job.file_name ?? job.destination_url ?? job.source_url ?? '';

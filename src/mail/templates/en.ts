import { a, b, code, p, type Block, type Inline } from './blocks.js';
import type { JobMailFacts, MailCopy, MailJobError } from './copy.js';
import { plural } from './format.js';

const greeting = (f: JobMailFacts): Block => p(f.userName ? `Hi ${f.userName},` : 'Hello,');

const table = (f: JobMailFacts): Inline[] => [b(`"${f.tableName}"`)];

function errorItem(e: MailJobError): Inline[] {
  const where = [e.line === null ? null : `Line ${e.line}`, e.field === null ? null : `field ${e.field}`].filter(Boolean).join(', ');
  return where ? [b(where), `: ${e.message}`] : [e.message];
}

function errorList(f: JobMailFacts): Block[] {
  if (f.errors.length === 0) return [];
  const items = f.errors.map(errorItem);
  if (f.moreErrors > 0) items.push([`… and ${f.moreErrorsText} more.`]);
  return [{ kind: 'list', items }];
}

const jobLine = (f: JobMailFacts, lead: string): Inline[] => [
  `${lead}, look up job `,
  code(f.jobId),
  ' with your API token: ',
  code(`GET ${f.jobUrl}`),
  '.',
];

const footer = (f: JobMailFacts, what: string): Block => ({
  kind: 'footer',
  content: [`You get this email because you started this ${what} on tableport (`, a(f.publicUrl), `). Job id: ${f.jobId}.`],
});

export const en: MailCopy = {
  exportSucceeded(f) {
    const blocks: Block[] = [
      greeting(f),
      p('Your export of table ', ...table(f), ' is ready: ', b(`${f.rows} ${plural(f.rowCount, 'row', 'rows')}`), '.'),
      {
        kind: 'facts',
        rows: [
          ['Table', [f.tableId === null ? f.tableName : `${f.tableName} (id ${f.tableId})`]],
          ['Rows', [f.rows]],
          ['File', [f.fileName ?? '—', f.fileType ? ` (${f.fileType})` : '']],
          ...(f.expiresAt ? [['Link expires', [`${f.expiresAt}${f.expiresIn ? ` (${f.expiresIn})` : ''}`]] as [string, Inline[]]] : []),
        ],
      },
    ];
    if (f.downloadUrl) blocks.push({ kind: 'button', url: f.downloadUrl, label: `Download ${f.fileName ?? 'the file'}` });
    if (f.expiresAt) {
      blocks.push(
        p(
          `The link works without signing in until ${f.expiresAt}${f.expiresIn ? `, ${f.expiresIn}` : ''}. `,
          'Anyone who has it can download the file, so share it with care. After that, start a new export.',
        ),
      );
    }
    blocks.push(footer(f, 'export'));
    return { subject: `Export of "${f.tableNameOneLine}" is ready: ${f.rows} ${plural(f.rowCount, 'row', 'rows')}`, blocks };
  },

  exportFailed(f) {
    const blocks: Block[] = [greeting(f), p('Your export of table ', ...table(f), ' failed; no file was made.')];
    blocks.push(f.errors.length ? p(f.totalErrors === 1 ? 'The reason:' : 'The reasons:') : p('No reason was recorded.'));
    blocks.push(...errorList(f));
    blocks.push(p('You can start the export again once the cause is fixed. ', ...jobLine(f, 'For the details')));
    blocks.push(footer(f, 'export'));
    return { subject: `Export of "${f.tableNameOneLine}" failed`, blocks };
  },

  importSucceeded(f) {
    if (f.dryRun) {
      const would = `${f.rows} ${plural(f.rowCount, 'row', 'rows')} would be written`;
      const blocks: Block[] = [
        greeting(f),
        p('Your dry run of an import into table ', ...table(f), ' found no problem: ', b(would), '.'),
        p('A dry run writes nothing; import the file without dry_run to write its rows.'),
        footer(f, 'import'),
      ];
      return { subject: `Dry run of an import into "${f.tableNameOneLine}": no problem, ${would}`, blocks };
    }
    const blocks: Block[] = [
      greeting(f),
      p('Your import into table ', ...table(f), ' is done: ', b(`${f.rows} ${plural(f.rowCount, 'row', 'rows')} written`), '.'),
      {
        kind: 'facts',
        rows: [
          ['Table', [f.tableId === null ? f.tableName : `${f.tableName} (id ${f.tableId})`]],
          ['Rows written', [f.rows]],
          ...(f.fileName ? [['File', [f.fileName, f.fileType ? ` (${f.fileType})` : '']] as [string, Inline[]]] : []),
        ],
      },
      footer(f, 'import'),
    ];
    return { subject: `Import into "${f.tableNameOneLine}" is done: ${f.rows} ${plural(f.rowCount, 'row', 'rows')} written`, blocks };
  },

  importFailed(f) {
    const blocks: Block[] = [
      greeting(f),
      p(
        'Your import into table ',
        ...table(f),
        ' failed, and ',
        b('no row was written'),
        ': an import is all or nothing.',
        f.fileName ? ` (File: ${f.fileName}.)` : '',
      ),
    ];
    if (f.errors.length) {
      blocks.push(
        p(
          f.totalErrors === 1
            ? 'The problem:'
            : `The ${f.totalErrorsText} problems${f.moreErrors > 0 ? `, the first ${f.errors.length} of them` : ''}:`,
        ),
      );
      blocks.push(...errorList(f));
    } else {
      blocks.push(p('No reason was recorded.'));
    }
    blocks.push(p(...jobLine(f, f.moreErrors > 0 ? 'To see all of them' : 'For the details')));
    if (f.downloadUrl) {
      blocks.push(p('The rows at fault, each with its reasons in the last column, are in this CSV: fix them there and import it again.'));
      blocks.push({ kind: 'button', url: f.downloadUrl, label: 'Download the error report' });
    } else blocks.push(p('Fix the file and import it again.'));
    blocks.push(footer(f, 'import'));
    return {
      subject: f.dryRun ? `Dry run of an import into "${f.tableNameOneLine}" found problems` : `Import into "${f.tableNameOneLine}" failed`,
      blocks,
    };
  },
};

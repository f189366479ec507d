import { a, b, code, p, type Block, type Inline } from './blocks.js';
import type { JobMailFacts, MailCopy, MailJobError } from './copy.js';

const greeting = (f: JobMailFacts): Block => p(f.userName ? `${f.userName}，您好：` : '您好：');

const table = (f: JobMailFacts): Inline[] => [b(`“${f.tableName}”`)];

function errorItem(e: MailJobError): Inline[] {
  const where = [e.line === null ? null : `第 ${e.line} 行`, e.field === null ? null : `字段 ${e.field}`].filter(Boolean).join('，');
  return where ? [b(where), `：${e.message}`] : [e.message];
}

function errorList(f: JobMailFacts): Block[] {
  if (f.errors.length === 0) return [];
  const items = f.errors.map(errorItem);
  if (f.moreErrors > 0) items.push([`……另有 ${f.moreErrorsText} 个错误。`]);
  return [{ kind: 'list', items }];
}

const jobLine = (f: JobMailFacts, lead: string): Inline[] => [
  `${lead}，请用您的 API 令牌查询任务 `,
  code(f.jobId),
  '：',
  code(`GET ${f.jobUrl}`),
  '。',
];

const footer = (f: JobMailFacts, what: string): Block => ({
  kind: 'footer',
  content: ['您收到这封邮件，是因为您在 tableport（', a(f.publicUrl), `）上发起了这次${what}。任务 ID：${f.jobId}。`],
});

export const zhCN: MailCopy = {
  exportSucceeded(f) {
    const blocks: Block[] = [
      greeting(f),
      p('数据表 ', ...table(f), ' 的导出已完成，共 ', b(`${f.rows} 行`), '。'),
      {
        kind: 'facts',
        rows: [
          ['数据表', [f.tableId === null ? f.tableName : `${f.tableName}（ID ${f.tableId}）`]],
          ['行数', [f.rows]],
          ['文件', [f.fileName ?? '—', f.fileType ? `（${f.fileType}）` : '']],
          ...(f.expiresAt ? [['链接有效期至', [`${f.expiresAt}${f.expiresIn ? `，${f.expiresIn}` : ''}`]] as [string, Inline[]]] : []),
        ],
      },
    ];
    if (f.downloadUrl) blocks.push({ kind: 'button', url: f.downloadUrl, label: `下载 ${f.fileName ?? '文件'}` });
    if (f.expiresAt) {
      blocks.push(
        p(
          `该链接无需登录即可使用，有效期至 ${f.expiresAt}${f.expiresIn ? `（${f.expiresIn}失效）` : ''}。`,
          '任何拿到链接的人都能下载该文件，请谨慎分享。过期后请重新发起导出。',
        ),
      );
    }
    blocks.push(footer(f, '导出'));
    return { subject: `数据表“${f.tableNameOneLine}”导出完成：${f.rows} 行`, blocks };
  },

  exportFailed(f) {
    const blocks: Block[] = [greeting(f), p('数据表 ', ...table(f), ' 的导出失败，未生成文件。')];
    blocks.push(f.errors.length ? p('失败原因：') : p('没有记录失败原因。'));
    blocks.push(...errorList(f));
    blocks.push(p('排除问题后可以重新发起导出。', ...jobLine(f, '查看详情')));
    blocks.push(footer(f, '导出'));
    return { subject: `数据表“${f.tableNameOneLine}”导出失败`, blocks };
  },

  importSucceeded(f) {
    if (f.dryRun) {
      const blocks: Block[] = [
        greeting(f),
        p('数据表 ', ...table(f), ' 的试导入（dry run）未发现问题，', b(`正式导入将写入 ${f.rows} 行`), '。'),
        p('试导入不会写入任何数据；去掉 dry_run 重新导入即可写入。'),
        footer(f, '导入'),
      ];
      return { subject: `数据表“${f.tableNameOneLine}”试导入未发现问题：将写入 ${f.rows} 行`, blocks };
    }
    const blocks: Block[] = [
      greeting(f),
      p('数据表 ', ...table(f), ' 的导入已完成，', b(`已写入 ${f.rows} 行`), '。'),
      {
        kind: 'facts',
        rows: [
          ['数据表', [f.tableId === null ? f.tableName : `${f.tableName}（ID ${f.tableId}）`]],
          ['写入行数', [f.rows]],
          ...(f.fileName ? [['文件', [f.fileName, f.fileType ? `（${f.fileType}）` : '']] as [string, Inline[]]] : []),
        ],
      },
      footer(f, '导入'),
    ];
    return { subject: `数据表“${f.tableNameOneLine}”导入完成：已写入 ${f.rows} 行`, blocks };
  },

  importFailed(f) {
    const blocks: Block[] = [
      greeting(f),
      p(
        '数据表 ',
        ...table(f),
        ' 的导入失败，',
        b('没有写入任何一行'),
        '（导入要么全部成功，要么全部不写入）。',
        f.fileName ? `文件：${f.fileName}。` : '',
      ),
    ];
    if (f.errors.length) {
      blocks.push(p(`共 ${f.totalErrorsText} 个错误${f.moreErrors > 0 ? `，以下是前 ${f.errors.length} 个` : ''}：`));
      blocks.push(...errorList(f));
    } else {
      blocks.push(p('没有记录失败原因。'));
    }
    blocks.push(p(...jobLine(f, f.moreErrors > 0 ? '查看全部错误' : '查看详情')));
    if (f.downloadUrl) {
      blocks.push(p('出错的行及原因（最后一列）已整理为 CSV 错误报告：在其中修正后可直接重新导入。'));
      blocks.push({ kind: 'button', url: f.downloadUrl, label: '下载错误报告' });
    } else blocks.push(p('请修正文件后重新导入。'));
    blocks.push(footer(f, '导入'));
    return { subject: f.dryRun ? `数据表“${f.tableNameOneLine}”试导入发现问题` : `数据表“${f.tableNameOneLine}”导入失败`, blocks };
  },
};

/** The runnable ```sh blocks of Markdown files (the README and docs/), for the tests that run them. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The line before a block that must not run here (it needs S3, a second deployment, a browser, or is `npm test` itself). */
export const SKIP_MARKER = '<!-- readme-test: skip -->';

export interface Block {
  /** 1-based line of the opening fence in its file. */
  line: number;
  code: string;
}

/** The ```sh blocks of a Markdown text, in order, without those marked to be skipped. */
export function shellBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]?.trim() !== '```sh') continue;
    let end = i + 1;
    while (end < lines.length && lines[end]?.trim() !== '```') end++;
    let prev = i - 1;
    while (prev >= 0 && lines[prev]?.trim() === '') prev--;
    if (prev < 0 || lines[prev]?.trim() !== SKIP_MARKER) blocks.push({ line: i + 1, code: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return blocks;
}

/**
 * The pages whose blocks run, in the order they run: the README first (its quick start sets `$TOKEN`,
 * `$API`, `$AUTH`, `$TABLEPORT_URL`, ...), then these reference pages in this order (bundles.md uses
 * a table that api.md makes), then every other `docs/*.md` by name.
 */
export const PAGE_ORDER = [
  'README.md',
  'docs/api.md',
  'docs/locations.md',
  'docs/sdk.md',
  'docs/cli.md',
  'docs/bundles.md',
  'docs/operations.md',
  'docs/configuration.md',
];

/** The Markdown pages of a checkout whose blocks run, README.md first, as paths relative to `repo`. */
export function runnablePages(repo: string): string[] {
  const docs = readdirSync(join(repo, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`);
  const listed = PAGE_ORDER.filter((p) => p === 'README.md' || docs.includes(p));
  return [...listed, ...docs.filter((p) => !listed.includes(p)).sort()];
}

/** A block with the page it comes from. */
export interface PageBlock extends Block {
  /** The page, relative to the checkout: `README.md`, `docs/api.md`, ... */
  file: string;
}

/** Every runnable block of the README and of docs/, in the order they run. */
export function runnableBlocks(repo: string): PageBlock[] {
  return runnablePages(repo).flatMap((file) => shellBlocks(readFileSync(join(repo, file), 'utf8')).map((b) => ({ file, ...b })));
}

/** The runnable ```sh blocks of Markdown files (the README and docs/), for the tests that run them. */

/** The line before a block that must not run here (it needs S3, a second deployment, a browser, or is `npm test` itself). */
export const SKIP_MARKER = '<!-- readme-test: skip -->';

export interface Block {
  /** 1-based README line of the opening fence. */
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

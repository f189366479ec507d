/**
 * The console speaks English and 简体中文: every sentence of its catalogue has Chinese with the same
 * placeholders, every error code the API can answer has a Chinese sentence, and no component
 * writes English text of its own (JSX text, or a literal label, title or placeholder).
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { Parser } from 'acorn';
import jsx from 'acorn-jsx';
import { transform } from 'esbuild';
import { en, zh, zhErrors } from '../../../console/src/messages.js';
import { ERROR_CODES } from '../../../src/types/api.js';

const SRC = fileURLToPath(new URL('../../../console/src/', import.meta.url));

/** Words that read the same in both languages: API parameter names. */
const SAME_IN_BOTH = new Set<string>(['orderBy']);
/** Literal text a component may show as is: language names (each in its own language) and API values. */
const LITERAL_OK = new Set(['English', '简体中文', 'gzip', '-created_at']);
/** Attributes people read or hear. */
const READ_ATTRIBUTES = new Set(['title', 'placeholder', 'aria-label', 'alt', 'label', 'aria-description']);

const placeholders = (s: string): string[] => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? '').sort();

test('every sentence of the console has a Chinese translation with the same placeholders', () => {
  const missing: string[] = [];
  const untranslated: string[] = [];
  const lostPlaceholders: string[] = [];
  for (const [key, english] of Object.entries(en)) {
    const chinese = (zh as Record<string, string | undefined>)[key];
    if (!chinese?.trim()) {
      missing.push(key);
      continue;
    }
    if (chinese === english && !SAME_IN_BOTH.has(key)) untranslated.push(key);
    if (placeholders(chinese).join() !== placeholders(english).join()) lostPlaceholders.push(key);
  }
  assert.deepEqual(missing, [], 'keys with no Chinese');
  assert.deepEqual(untranslated, [], 'keys whose Chinese is the English text');
  assert.deepEqual(lostPlaceholders, [], 'keys whose Chinese lost or gained a {placeholder}');
  assert.deepEqual(
    Object.keys(zh).filter((k) => !(k in en)),
    [],
    'Chinese keys with no English',
  );
});

test('every error code the API answers with has a Chinese sentence', () => {
  assert.deepEqual(
    ERROR_CODES.filter((code) => !zhErrors[code]?.trim()),
    [],
  );
});

const JsxParser = Parser.extend(jsx());

/**
 * A component's syntax tree (ESTree, as acorn-jsx reads JSX): esbuild strips the TypeScript and keeps
 * the JSX as written (`jsx: 'preserve'`), then acorn parses it. A syntax error rejects.
 */
async function parse(path: string, source: string): Promise<unknown> {
  const js = await transform(source, { loader: 'tsx', jsx: 'preserve', sourcefile: path });
  return JsxParser.parse(js.code, { ecmaVersion: 'latest', sourceType: 'module' });
}

async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await sources(path)));
    else if (e.name.endsWith('.tsx')) out.push(path);
  }
  return out;
}

interface Node {
  type: string;
  [k: string]: unknown;
}

/** Every JSX text and literal read attribute in `node`, as `where: text`. */
function englishIn(node: unknown, found: string[], file: string): void {
  if (Array.isArray(node)) {
    for (const n of node) englishIn(n, found, file);
    return;
  }
  if (!node || typeof node !== 'object') return;
  const n = node as Node;
  if (n.type === 'JSXText') {
    const text = String(n.value).trim();
    if (/[A-Za-z]{2,}/.test(text) && !LITERAL_OK.has(text)) found.push(`${file}: text "${text}"`);
  }
  if (n.type === 'JSXAttribute') {
    const name = (n.name as { name?: string }).name ?? '';
    const value = n.value as { type?: string; value?: unknown } | null;
    const literal = String(value?.value ?? '');
    if (READ_ATTRIBUTES.has(name) && value?.type === 'Literal' && /[A-Za-z]{2,}/.test(literal) && !LITERAL_OK.has(literal))
      found.push(`${file}: ${name}="${String(value.value)}"`);
  }
  for (const [k, v] of Object.entries(n)) if (k !== 'type' && v && typeof v === 'object') englishIn(v, found, file);
}

test('no component shows English of its own: every word comes from the catalogue', async () => {
  const files = await sources(SRC);
  assert.ok(files.length >= 8, `only ${files.length} components found under ${SRC}`);
  const found: string[] = [];
  for (const path of files) {
    englishIn(await parse(path, await readFile(path, 'utf8')), found, path.slice(SRC.length));
  }
  assert.deepEqual(found, []);
});

test('the check finds English written into a component', async () => {
  const found: string[] = [];
  const tsx = 'const a = <p title="Close it" aria-label={label as string}>Export queued <b>{n}</b> — English</p>;';
  englishIn(await parse('x.tsx', tsx), found, 'x.tsx');
  assert.deepEqual(found, ['x.tsx: title="Close it"', 'x.tsx: text "Export queued"', 'x.tsx: text "— English"']);
});

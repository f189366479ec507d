#!/usr/bin/env node
// Bundles the web console into dist/console/, which the API serves at /console/ (src/http/routes/console.routes.ts).
// esbuild bundles each file console/index.html names (its module script and its stylesheet) into
// dist/console/assets/ under a content-hashed name, and index.html is written with those names.
// Everything ships in the bundle: no CDN, no inline script, nothing inlined as a data: URL (every
// asset loader is `file`), so the page runs under a self-only CSP.
//
//   node console/build.js            # one build (npm run build:console)
//   node console/build.js --watch    # rebuild on every change under console/src (npm run dev:console)
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const ROOT = fileURLToPath(new URL('.', import.meta.url));
const OUT = fileURLToPath(new URL('../dist/console/', import.meta.url));
const ASSETS = join(OUT, 'assets');
const BASE = '/console/assets/';
const watch = process.argv.includes('--watch');

const html = readFileSync(join(ROOT, 'index.html'), 'utf8');
// The page's own files: `src="./…"` and `href="./…"` (the favicon's `data:,` is no file, and stays).
const REF = /\b(src|href)="(\.\/[^"]+)"/g;
const refs = [...new Set([...html.matchAll(REF)].map((m) => m[2] ?? ''))];
if (refs.length === 0) throw new Error('console/index.html names no script or stylesheet');
const entries = Object.fromEntries(refs.map((r) => [r, resolve(ROOT, r)]));

/** index.html with every `./src/…` reference replaced by its hashed bundle under /console/assets/. */
function writeIndex(metafile) {
  const built = new Map();
  for (const [out, info] of Object.entries(metafile.outputs)) {
    if (info.entryPoint) built.set(resolve(ROOT, info.entryPoint), `${BASE}${basename(out)}`);
  }
  const page = html.replace(REF, (_whole, attr, ref) => {
    const url = built.get(entries[ref]);
    if (!url) throw new Error(`console/index.html names ${ref}, which esbuild did not build`);
    return `${attr}="${url}"`;
  });
  writeFileSync(join(OUT, 'index.html'), page);
  // In watch mode the previous build's hashed files are dropped; index.html no longer names them.
  const keep = new Set(Object.keys(metafile.outputs).map((o) => basename(o)));
  for (const f of readdirSync(ASSETS)) if (!keep.has(f)) rmSync(join(ASSETS, f));
}

const ASSET_LOADERS = Object.fromEntries(
  ['.svg', '.png', '.jpg', '.gif', '.webp', '.ico', '.woff', '.woff2', '.ttf'].map((ext) => [ext, 'file']),
);

/** @type {import('esbuild').BuildOptions} */
const options = {
  entryPoints: Object.values(entries),
  absWorkingDir: ROOT,
  outdir: ASSETS,
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  chunkNames: '[name]-[hash]',
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  loader: ASSET_LOADERS,
  minify: !watch,
  sourcemap: watch ? 'linked' : false,
  legalComments: 'none',
  // Chinese as UTF-8, not \u escapes: module scripts and the stylesheet are read as UTF-8.
  charset: 'utf8',
  metafile: true,
  logLevel: 'warning',
  plugins: [
    {
      name: 'index-html',
      setup(build) {
        build.onEnd((result) => {
          if (result.errors.length === 0 && result.metafile) {
            writeIndex(result.metafile);
            if (watch) console.log(`console: built ${relative(process.cwd(), OUT)} at ${new Date().toLocaleTimeString()}`);
          }
        });
      },
    },
  ],
};

rmSync(OUT, { recursive: true, force: true });
mkdirSync(ASSETS, { recursive: true });
if (watch) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
  console.log('console: watching console/src (index.html is read once: restart after changing it)');
} else {
  await esbuild.build(options);
}

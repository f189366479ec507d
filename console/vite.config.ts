// Bundles the web console into dist/console/, which the API serves at /console/ (src/http/routes/console.routes.ts).
// Everything ships in the bundle: no CDN, no inline script, so the page runs under a self-only CSP.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/console/',
  publicDir: false,
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../dist/console', import.meta.url)),
    emptyOutDir: true,
    // One small bundle; nothing inlined as data: URLs, which a self-only CSP would refuse for scripts.
    assetsInlineLimit: 0,
    target: 'es2022',
  },
});

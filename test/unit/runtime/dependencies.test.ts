/**
 * The production install holds `dependencies` only (the Docker image: `npm ci --omit=dev
 * --omit=optional`). What the service imports must be there, nothing there may go unused, each is
 * justified in docs/dependencies.md, and each package they bring accepts the Node versions that
 * `engines` promises. The development install (`npm ci`) carries no dev dependency that nothing
 * uses, docs/dependencies.md names each one, and no package of it makes `npm ci` warn about the
 * Node version from Node 20.19 and 22.12 on.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import semver from 'semver';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  engines: { node: string };
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  scripts: Record<string, string>;
};
const RUNTIME = Object.keys(pkg.dependencies).sort();
const DEV = Object.keys(pkg.devDependencies).sort();

/** bin/tableport.js loads tsx only without a build, and says what to do when it is absent. */
const DEV_ONLY_IN = new Map([['tsx', 'bin/tableport.js']]);

/**
 * Declared engines that the production code never meets: node-pg-migrate's command-line parser
 * (tableport calls its runner, which does not load it) asks for Node ^20.19 || ^22.12.
 */
const ENGINES_NOT_LOADED = new Set(['yargs', 'yargs-parser']);

function files(dir: string): string[] {
  if (!existsSync(join(ROOT, dir))) return [];
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    // test/tools/ has an install of its own (azurite), with a package.json and lock of its own.
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : files(path);
    return /\.(ts|tsx|js|cjs|mjs)$/.test(e.name) ? [path] : [];
  });
}

/** The npm package a bare specifier names (`@scope/name/sub` → `@scope/name`), or null for relative and built-in ones. */
function packageOf(specifier: string): string | null {
  if (specifier.startsWith('.') || specifier.startsWith('node:')) return null;
  const parts = specifier.split('/');
  return (specifier.startsWith('@') ? parts.slice(0, 2) : parts.slice(0, 1)).join('/');
}

/** Every package the code under `dirs` loads: static and dynamic imports, `require`, and `require.resolve` (also `createRequire(import.meta.url).resolve`; a package resolved from another one's folder is that one's). */
function importedPackages(dirs = ['src', 'workers', 'bin']): Map<string, Set<string>> {
  const found = new Map<string, Set<string>>();
  for (const file of dirs.flatMap(files)) {
    // Code only: a doc comment's example may import the package itself (`tableport/sdk`).
    const text = readFileSync(join(ROOT, file), 'utf8')
      .split('\n')
      .filter((line) => !/^\s*(\*|\/\*|\/\/)/.test(line))
      .join('\n');
    for (const m of text.matchAll(
      /(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+|\brequire\(\s*|(?:require|createRequire\(import\.meta\.url\))\.resolve\(\s*)'([^']+)'/g,
    )) {
      const name = packageOf(m[1] as string);
      if (name) found.set(name, (found.get(name) ?? new Set()).add(file));
    }
  }
  return found;
}

describe('runtime dependencies', () => {
  test('every package the service loads is a runtime dependency, and every runtime dependency is loaded', () => {
    const imported = importedPackages();
    const missing = [...imported]
      .filter(([name, where]) => !(name in pkg.dependencies) && !(DEV_ONLY_IN.get(name) === [...where].join()))
      .map(([name, where]) => `${name} (${[...where].join(', ')})`);
    assert.deepEqual(missing, [], 'loaded by the service but not in dependencies');
    assert.deepEqual(
      RUNTIME.filter((d) => !imported.has(d)),
      [],
      'in dependencies but loaded by nothing in src/, workers/ or bin/',
    );
  });

  test('docs/dependencies.md says why each runtime dependency is there, and names no other', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'dependencies.md'), 'utf8');
    const section = doc.split(/^## /m).find((s) => s.startsWith('Runtime dependencies'));
    assert.ok(section, 'a "Runtime dependencies" section');
    const named = [...section.matchAll(/^\| `([^`]+)` \|\s*\S/gm)].map((m) => m[1] as string).sort();
    assert.deepEqual(named, RUNTIME);
  });

  test("every package of the production install accepts the Node versions in package.json's engines", () => {
    // The lowest version of each range `engines` allows (^20.11 || >=22: 20.11.0 and 22.0.0).
    const lowest = pkg.engines.node.split('||').map((r) => semver.minVersion(r.trim())?.version);
    assert.deepEqual(lowest, ['20.11.0', '22.0.0']);
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean; devOptional?: boolean; optional?: boolean; engines?: { node?: string } }>;
    };
    const refused: string[] = [];
    for (const [path, entry] of Object.entries(lock.packages)) {
      const name = path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
      if (!path || entry.dev || entry.devOptional || entry.optional || ENGINES_NOT_LOADED.has(name)) continue;
      const range = entry.engines?.node;
      if (!range) continue;
      for (const v of lowest) if (v && !semver.satisfies(v, range)) refused.push(`${name} wants node ${range}, refuses ${v}`);
    }
    assert.deepEqual(refused, []);
  });
});

/** Where the development install's packages are used: the tests, the bench, the scripts, the console and its build, the examples. */
const DEV_DIRS = ['test', 'bench', 'scripts', 'console', 'examples'];

/** The lowest Node versions from which `npm ci` warns about no package: yargs (node-pg-migrate's, a runtime package) asks for ^20.19 || ^22.12. */
const NO_ENGINE_WARNING_FROM = ['20.19.0', '22.12.0'];

/** The commands a package puts in node_modules/.bin (`tsc`, `biome`), as its installed package.json says. */
function binsOf(name: string): string[] {
  if (!existsSync(join(ROOT, 'node_modules', name, 'package.json'))) return [];
  const manifest = JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as {
    bin?: string | Record<string, string>;
  };
  if (typeof manifest.bin === 'string') return [name.replace(/^@[^/]+\//, '')];
  return Object.keys(manifest.bin ?? {});
}

describe('dev dependencies', () => {
  test('every dev dependency is used: loaded by the tests, the bench, the scripts or the console, or run by an npm script', () => {
    const imported = importedPackages(DEV_DIRS);
    // A package an npm script runs by its command (`tsc`, `biome`) or loads (`node --import tsx`).
    const words = new Set(Object.values(pkg.scripts).flatMap((command) => command.split(/[\s;&|()]+/)));
    const run = (name: string) => words.has(name) || binsOf(name).some((bin) => words.has(bin));
    /** `@types/pg` types `pg`, `@types/node` Node itself. */
    const typed = (name: string) => {
      const of = name.slice('@types/'.length).replace(/^(.+)__(.+)$/, '@$1/$2');
      return of === 'node' || of in pkg.dependencies || of in pkg.devDependencies;
    };
    const unused = DEV.filter((d) => (d.startsWith('@types/') ? !typed(d) : !imported.has(d) && !run(d)));
    assert.deepEqual(unused, [], 'dev dependencies nothing loads or runs');
  });

  test('the used check sees a dev dependency of each kind', () => {
    const imported = importedPackages(DEV_DIRS);
    for (const name of ['esbuild', 'preact', 'playwright-core', 's3rver', 'autocannon', 'read-excel-file', 'acorn-jsx'])
      assert.ok(imported.has(name), `${name} is loaded`);
    assert.deepEqual(binsOf('typescript'), ['tsc']);
    assert.ok(binsOf('@biomejs/biome').includes('biome'));
  });

  test('docs/dependencies.md names each dev dependency (the @types/ packages in one row)', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'dependencies.md'), 'utf8');
    const section = doc.split(/^## /m).find((s) => s.startsWith('Dev dependencies'));
    assert.ok(section, 'a "Dev dependencies" section');
    const named = [...section.matchAll(/^\| `([^`]+)` \|\s*\S/gm)].map((m) => m[1] as string).sort();
    const expected = [
      ...DEV.filter((d) => !d.startsWith('@types/')),
      ...(DEV.some((d) => d.startsWith('@types/')) ? ['@types/*'] : []),
    ].sort();
    assert.deepEqual(named, expected);
  });

  test('no package of the development install refuses Node 20.19 or 22.12, so `npm ci` prints no engine warning', () => {
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { engines?: { node?: string } }>;
    };
    const refused: string[] = [];
    for (const [path, entry] of Object.entries(lock.packages)) {
      const range = entry.engines?.node;
      if (!path || !range) continue;
      for (const v of NO_ENGINE_WARNING_FROM) if (!semver.satisfies(v, range)) refused.push(`${path} wants node ${range}, refuses ${v}`);
    }
    assert.deepEqual(refused, []);
  });
});

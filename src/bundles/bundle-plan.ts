/**
 * What a bundle import does to the caller's tables, as a pure function of the mode, the tables
 * the caller has, and the bundle's tables (with `rename`):
 *
 * - `reset` (eKuiper's import): the workspace becomes the bundle. Every bundle table is created,
 *   or recreated when one of that name exists; every other table of the caller is dropped.
 * - `replace`: only the bundle's tables are created or recreated; the others stay.
 * - `merge`: a missing table is created; an existing one with the same fields (names and types, in
 *   any order) gets the rows appended; a field mismatch is that table's failure.
 *
 * A bundle is read as a stream, so the planner takes its tables one by one (`table()`), and only
 * `finish()` knows which tables the bundle left out (what `reset` drops) and which renames named
 * no table. `planBundleImport()` runs the same steps over a whole list.
 */
import type { FieldSchema, TableSchema } from '../types/api.js';

export const IMPORT_MODES = ['reset', 'replace', 'merge'] as const;
export type ImportMode = (typeof IMPORT_MODES)[number];

export interface ExistingTable {
  id: number;
  name: string;
  schema: TableSchema;
}

export interface BundleTableSpec {
  name: string;
  schema: TableSchema;
}

export type TableAction =
  /** No table of that name: create it, then copy the rows in. */
  | { action: 'create'; source: string; target: string; schema: TableSchema }
  /** A table of that name exists: drop its rows and fields, give it the bundle's schema, copy the rows in. */
  | { action: 'recreate'; source: string; target: string; schema: TableSchema; existing: ExistingTable }
  /** Same fields: copy the rows in after the ones there. */
  | { action: 'append'; source: string; target: string; schema: TableSchema; existing: ExistingTable }
  /** This table cannot be imported; the whole import fails and names it. */
  | { action: 'fail'; source: string; target: string; reason: string };

export interface PlanEnd {
  /** Tables of the caller that `reset` drops (not in the bundle, after renames). */
  drop: ExistingTable[];
  /** Renames of tables that were not in the bundle: the request's mistake, by old name. */
  unusedRenames: string[];
}

export class BundleImportPlanner {
  private readonly existing: Map<string, ExistingTable>;
  private readonly targets = new Set<string>();
  private readonly sources = new Set<string>();

  constructor(
    readonly mode: ImportMode,
    existing: readonly ExistingTable[],
    private readonly rename: Readonly<Record<string, string>> = {},
  ) {
    this.existing = new Map(existing.map((t) => [t.name, t]));
  }

  /** The action for the bundle's next table. */
  table(spec: BundleTableSpec): TableAction {
    const source = spec.name;
    const target = Object.hasOwn(this.rename, source) ? (this.rename[source] as string) : source;
    this.sources.add(source);
    if (this.targets.has(target)) {
      return { action: 'fail', source, target, reason: `two tables of the bundle would both become "${target}"; rename one of them` };
    }
    this.targets.add(target);
    const existing = this.existing.get(target);
    if (!existing) return { action: 'create', source, target, schema: spec.schema };
    if (this.mode !== 'merge') return { action: 'recreate', source, target, schema: spec.schema, existing };
    const mismatch = fieldMismatch(existing.schema.fields, spec.schema.fields);
    if (mismatch) return { action: 'fail', source, target, reason: `the table "${target}" exists with other fields: ${mismatch}` };
    return { action: 'append', source, target, schema: existing.schema, existing };
  }

  finish(): PlanEnd {
    const drop = this.mode === 'reset' ? [...this.existing.values()].filter((t) => !this.targets.has(t.name)) : [];
    const unusedRenames = Object.keys(this.rename).filter((k) => !this.sources.has(k));
    return { drop, unusedRenames };
  }
}

export interface BundlePlan {
  tables: TableAction[];
  drop: ExistingTable[];
  unusedRenames: string[];
}

/** The whole plan at once (previews and tests); the importer uses BundleImportPlanner as tables stream. */
export function planBundleImport(
  mode: ImportMode,
  existing: readonly ExistingTable[],
  bundle: readonly BundleTableSpec[],
  rename: Readonly<Record<string, string>> = {},
): BundlePlan {
  const planner = new BundleImportPlanner(mode, existing, rename);
  const tables = bundle.map((t) => planner.table(t));
  return { tables, ...planner.finish() };
}

/**
 * Why two field lists are not "the same fields" for `merge` (undefined when they are): the same
 * names with the same types, in any order (COPY names its columns). Descriptions do not count.
 */
export function fieldMismatch(table: readonly FieldSchema[], bundle: readonly FieldSchema[]): string | undefined {
  const have = new Map(table.map((f) => [f.name, f.type]));
  const problems: string[] = [];
  for (const f of bundle) {
    const t = have.get(f.name);
    if (t === undefined) problems.push(`the bundle has "${f.name}" (${f.type}), the table has not`);
    else if (t !== f.type) problems.push(`"${f.name}" is ${f.type} in the bundle, ${t} in the table`);
    have.delete(f.name);
  }
  for (const [name, type] of have) problems.push(`the table has "${name}" (${type}), the bundle has not`);
  if (!problems.length) return undefined;
  const shown = problems.slice(0, 3).join('; ');
  return problems.length > 3 ? `${shown}; and ${problems.length - 3} more` : shown;
}

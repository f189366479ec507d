/**
 * How a compiled query refers to its values. Values never enter the SQL text: they are bind
 * parameters (`$n`), or, for `COPY (SELECT ...)`, which PostgreSQL cannot bind, session settings
 * set by a bound `set_config()` just before and read once per query by an uncorrelated sub-select
 * (an InitPlan, so an index can still use it).
 */
export interface Binder {
  /** Registers `text` and returns the SQL expression that yields it cast to `cast`. */
  bind(text: string, cast: string): string;
  /** The values registered so far, in order. */
  readonly values: string[];
}

/** `$n::cast` parameters, numbered after `offset` parameters the caller binds itself. */
export function parameterBinder(offset = 0): Binder {
  const values: string[] = [];
  return {
    values,
    bind(text, cast) {
      values.push(text);
      return `$${offset + values.length}::${cast}`;
    },
  };
}

const SETTING_PREFIX = 'tableport.q';

/** Values held in session settings, for COPY: run {@link settingsSql} with `values` first, on the same connection. */
export function settingBinder(): Binder {
  const values: string[] = [];
  return {
    values,
    bind(text, cast) {
      values.push(text);
      return `(SELECT current_setting('${SETTING_PREFIX}${values.length - 1}')::${cast})`;
    },
  };
}

/** The statement that puts `count` bound values ($1..$count) into the settings {@link settingBinder} reads. */
export function settingsSql(count: number): string | null {
  if (count === 0) return null;
  const sets = Array.from({ length: count }, (_, i) => `set_config('${SETTING_PREFIX}${i}', $${i + 1}, false)`);
  return `SELECT ${sets.join(', ')}`;
}

// A tiny observable value for the app's few globals (language, route); components re-render on change.
import { useEffect, useState } from 'preact/hooks';

export interface Signal<T> {
  get(): T;
  set(v: T): void;
  use(): T;
}

export function signal<T>(value: T): Signal<T> {
  const subs = new Set<(v: T) => void>();
  let current = value;
  return {
    get: () => current,
    set(v: T) {
      current = v;
      for (const s of subs) s(v);
    },
    use() {
      const [v, setV] = useState(current);
      useEffect(() => {
        subs.add(setV);
        setV(current);
        return () => {
          subs.delete(setV);
        };
      }, []);
      return v;
    },
  };
}

/** The routes an express app would dispatch to, as `METHOD /path` (the router's own path, mount paths left out). */
type Layer = { route?: { path: unknown; methods: Record<string, boolean> }; handle?: { stack?: Layer[] } };

export function registeredRoutes(router: unknown): Set<string> {
  const out = new Set<string>();
  const walk = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route && typeof layer.route.path === 'string') {
        for (const m of Object.keys(layer.route.methods)) out.add(`${m.toUpperCase()} ${layer.route.path}`);
      } else if (layer.handle?.stack) walk(layer.handle.stack);
    }
  };
  const stack = (router as { stack?: Layer[] } | undefined)?.stack;
  if (stack) walk(stack);
  return out;
}

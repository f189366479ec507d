// The column names of a file the user picked, read in the browser from its first bytes, so the
// mapping editor can offer each one. Only text formats (CSV/TSV, JSON lines, a JSON array of
// objects); for others (Parquet, xlsx, gzip) the editor is not offered and the preview still
// shows what the server reads.

const HEAD_BYTES = 64 * 1024;

/** One CSV line split on `delim`, with "quoted" cells (and "" inside them). */
export function splitCsvLine(line: string, delim: string): string[] {
  const out: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"' && cell === '') quoted = true;
    else if (c === delim) {
      out.push(cell);
      cell = '';
    } else cell += c;
  }
  out.push(cell);
  return out.map((s) => s.trim());
}

/** The delimiter the server would most likely detect: the one that splits the header most. */
function guessDelimiter(line: string): string {
  let best = ',';
  let most = 0;
  for (const d of [',', ';', '\t', '|']) {
    const n = splitCsvLine(line, d).length;
    if (n > most) {
      most = n;
      best = d;
    }
  }
  return best;
}

/** The file's columns, or `null` when they cannot be read here (binary, compressed, no header). */
export async function fileColumns(file: File, opts: { delimiter: string; header: boolean; columns: string }): Promise<string[] | null> {
  const name = file.name.toLowerCase();
  if (!opts.header) return opts.columns.trim() ? splitCsvLine(opts.columns, ',').filter(Boolean) : null;
  if (/\.(parquet|xlsx|gz)$/.test(name)) return null;
  const head = (await file.slice(0, HEAD_BYTES).text()).replace(/^\uFEFF/, '');
  const first = head.split(/\r?\n/, 1)[0] ?? '';
  if (/\.(json|ndjson|jsonl)$/.test(name)) {
    // NDJSON: the first line is an object; a JSON array: its first object, when it fits in the head.
    const text = first.trim().startsWith('[') ? head.trim().slice(1) : first;
    const end = text.indexOf('}');
    if (end < 0) return null;
    try {
      const obj = JSON.parse(text.slice(0, end + 1)) as Record<string, unknown>;
      return Object.keys(obj);
    } catch {
      return null;
    }
  }
  if (!first) return null;
  const delim = opts.delimiter === 'tab' ? '\t' : opts.delimiter || (name.endsWith('.tsv') ? '\t' : guessDelimiter(first));
  return splitCsvLine(first, delim).filter(Boolean);
}

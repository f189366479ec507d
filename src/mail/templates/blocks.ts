/**
 * A mail's body as a few kinds of blocks, rendered once as plain text and once as HTML. Both parts
 * come from the same blocks, so they cannot disagree about a fact, and the HTML renderer is the
 * one place that escapes: every string a template hands in is treated as untrusted text.
 */

/** Text inside a block: plain, bold, monospace, or a link (shown as its URL in the text part). */
export type Inline = string | { b: string } | { code: string } | { a: string; label?: string };

export type Block =
  | { kind: 'p'; content: Inline[] }
  /** The mail's main action: a button in HTML, the URL on its own line in text. */
  | { kind: 'button'; url: string; label: string }
  | { kind: 'list'; items: Inline[][] }
  /** Label-value lines. */
  | { kind: 'facts'; rows: Array<[label: string, value: Inline[]]> }
  /** Small print under the card (why the mail came, the job id). */
  | { kind: 'footer'; content: Inline[] };

export const p = (...content: Inline[]): Block => ({ kind: 'p', content });
export const b = (text: string): Inline => ({ b: text });
export const code = (text: string): Inline => ({ code: text });
export const a = (url: string, label?: string): Inline => (label === undefined ? { a: url } : { a: url, label });

// ---- text ----

function inlineText(parts: Inline[]): string {
  return parts
    .map((x) => {
      if (typeof x === 'string') return x;
      if ('b' in x) return x.b;
      if ('code' in x) return x.code;
      // A URL stays whole and unwrapped, so mail clients linkify exactly the URL.
      return x.label === undefined || x.label === x.a ? x.a : `${x.label}: ${x.a}`;
    })
    .join('');
}

export function renderText(blocks: Block[]): string {
  const out: string[] = [];
  for (const block of blocks) {
    switch (block.kind) {
      case 'p':
        out.push(inlineText(block.content));
        break;
      case 'button':
        out.push(`${block.label}:\n${block.url}`);
        break;
      case 'list':
        out.push(block.items.map((item) => `  - ${inlineText(item)}`).join('\n'));
        break;
      case 'facts':
        out.push(block.rows.map(([label, value]) => `${label}: ${inlineText(value)}`).join('\n'));
        break;
      case 'footer':
        out.push(`-- \n${inlineText(block.content)}`);
        break;
    }
  }
  return `${out.join('\n\n')}\n`;
}

// ---- HTML ----

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

/**
 * A URL for a double-quoted href. Only http(s) links are made (anything else is not our link).
 * Characters that could end the attribute are percent-encoded. An `&` that starts a query
 * parameter (`&name=`) is left as it is: HTML5 never reads a character reference there inside an
 * attribute, and a literal `&` keeps the href byte-for-byte the URL of the text part; any other
 * `&` becomes `&amp;`.
 */
export function hrefAttr(url: string): string | null {
  if (!/^https?:\/\//i.test(url)) return null;
  return (
    url
      // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters in a link are percent-encoded on purpose.
      .replace(/[\s"'<>`\u0000-\u001f\u007f]/g, (c) => encodeURIComponent(c))
      .replace(/&(?![A-Za-z0-9_.~%-]*=)/g, '&amp;')
  );
}

// Trusted constants, placed inside double-quoted style attributes: no double quotes in here.
const S = {
  body: 'margin:0;padding:0;background-color:#f4f5f7;',
  wrap: `max-width:600px;margin:0 auto;padding:24px 16px;font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Helvetica,Arial,'PingFang SC','Microsoft YaHei',sans-serif;font-size:15px;line-height:1.55;color:#1f2328;`,
  card: 'background-color:#ffffff;border:1px solid #d8dee4;border-radius:8px;padding:24px;',
  p: 'margin:0 0 16px;',
  button:
    'display:inline-block;padding:10px 20px;background-color:#0969da;color:#ffffff;text-decoration:none;border-radius:6px;font-weight:600;',
  urlText: 'margin:0 0 16px;font-size:13px;color:#57606a;word-break:break-all;',
  link: 'color:#0969da;word-break:break-all;',
  ul: 'margin:0 0 16px;padding-left:20px;',
  li: 'margin:0 0 4px;',
  table: 'border-collapse:collapse;margin:0 0 16px;',
  th: 'padding:2px 16px 2px 0;color:#57606a;font-weight:normal;text-align:left;vertical-align:top;white-space:nowrap;',
  td: 'padding:2px 0;vertical-align:top;',
  code: `font-family:SFMono-Regular,Consolas,'Liberation Mono',Menlo,monospace;font-size:13px;background-color:#f6f8fa;padding:1px 4px;border-radius:4px;`,
  footer: 'margin:16px 0 0;font-size:12px;color:#6e7781;',
};

function inlineHtml(parts: Inline[]): string {
  return parts
    .map((x) => {
      if (typeof x === 'string') return escapeHtml(x);
      if ('b' in x) return `<strong>${escapeHtml(x.b)}</strong>`;
      if ('code' in x) return `<code style="${S.code}">${escapeHtml(x.code)}</code>`;
      const href = hrefAttr(x.a);
      const label = escapeHtml(x.label ?? x.a);
      return href === null ? label : `<a href="${href}" style="${S.link}">${label}</a>`;
    })
    .join('');
}

function blockHtml(block: Block): string {
  switch (block.kind) {
    case 'p':
      return `<p style="${S.p}">${inlineHtml(block.content)}</p>`;
    case 'button': {
      const href = hrefAttr(block.url);
      const button = href === null ? '' : `<p style="${S.p}"><a href="${href}" style="${S.button}">${escapeHtml(block.label)}</a></p>\n`;
      // The URL as text too, for clients that drop the button's styles, and to copy.
      return `${button}<p style="${S.urlText}">${escapeHtml(block.url)}</p>`;
    }
    case 'list':
      return `<ul style="${S.ul}">${block.items.map((i) => `<li style="${S.li}">${inlineHtml(i)}</li>`).join('')}</ul>`;
    case 'facts':
      return (
        `<table role="presentation" style="${S.table}">` +
        block.rows
          .map(([l, v]) => `<tr><th scope="row" style="${S.th}">${escapeHtml(l)}</th><td style="${S.td}">${inlineHtml(v)}</td></tr>`)
          .join('') +
        '</table>'
      );
    case 'footer':
      return '';
  }
}

export function renderHtml(blocks: Block[], opts: { lang: string; title: string }): string {
  const card = blocks
    .filter((x) => x.kind !== 'footer')
    .map(blockHtml)
    .join('\n');
  const footer = blocks
    .filter((x): x is Extract<Block, { kind: 'footer' }> => x.kind === 'footer')
    .map((f) => `<p style="${S.footer}">${inlineHtml(f.content)}</p>`)
    .join('\n');
  return `<!DOCTYPE html>
<html lang="${escapeHtml(opts.lang)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(opts.title)}</title>
</head>
<body style="${S.body}">
<div style="${S.wrap}">
<div style="${S.card}">
${card}
</div>
${footer}
</div>
</body>
</html>
`;
}

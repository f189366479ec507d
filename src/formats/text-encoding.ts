/**
 * The text encodings of imported files. Spreadsheet programs save text as UTF-8, UTF-16 ("Unicode
 * text"), or in the user's legacy code page (GB18030/GBK in Chinese Excel and WPS, Windows-1252 in
 * Western Excel, Big5, Shift_JIS). Decoding is Node's `TextDecoder` (ICU, the WHATWG Encoding
 * Standard's decoders), strict: a byte sequence the encoding does not allow is an error, never a
 * silent U+FFFD.
 *
 * Detection is from the head of the file and only when the evidence is strong: a byte order mark,
 * UTF-16's NUL bytes in every other position, valid UTF-8, or (for invalid UTF-8) text that decodes
 * cleanly as GB18030 or Shift_JIS into nothing but CJK text in the byte shape those encodings give
 * it. Anything else is refused naming the likely encoding and the `encoding` option.
 */
import { isUtf8 } from 'node:buffer';
import { TextDecoder } from 'node:util';
import { InvalidFileError } from '../errors.js';
import { incompleteTail } from './utf8.js';

export const UTF8 = 'utf-8';

/** The encodings named in messages, by their canonical (WHATWG) name. */
const TITLES: Record<string, string> = {
  'utf-8': 'UTF-8',
  'utf-16le': 'UTF-16LE',
  'utf-16be': 'UTF-16BE',
  gb18030: 'GB18030',
  gbk: 'GBK',
  big5: 'Big5',
  shift_jis: 'Shift_JIS',
  'euc-jp': 'EUC-JP',
  'euc-kr': 'EUC-KR',
  'windows-1252': 'Windows-1252',
};

/** A name for people: "GB18030", "Windows-1252", "ISO-8859-2". */
export function encodingTitle(encoding: string): string {
  return TITLES[encoding] ?? encoding.toUpperCase();
}

/**
 * The canonical name of an encoding label (`latin1` → `windows-1252`, `utf-16` → `utf-16le`,
 * `GBK` → `gbk`), or undefined when no decoder has it. `x-user-defined` and `replacement` are no
 * file encodings and are refused too.
 */
export function canonicalEncoding(label: string): string | undefined {
  try {
    const name = new TextDecoder(label.trim()).encoding;
    return name === 'x-user-defined' || name === 'replacement' ? undefined : name;
  } catch {
    return undefined;
  }
}

/** What a file's byte order mark says, and how long it is. */
export function bomOf(head: Uint8Array): { encoding: string; length: number } | undefined {
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return { encoding: UTF8, length: 3 };
  if (head[0] === 0xff && head[1] === 0xfe) return { encoding: 'utf-16le', length: 2 };
  if (head[0] === 0xfe && head[1] === 0xff) return { encoding: 'utf-16be', length: 2 };
  return undefined;
}

/**
 * UTF-16 without a BOM, from its NUL bytes: text that is mostly ASCII (as delimiters, digits and
 * line ends are) has a 0 high byte in every other position, and almost never the other way round.
 */
function utf16WithoutBom(head: Uint8Array): string | undefined {
  const pairs = Math.floor(Math.min(head.length, 8192) / 2);
  if (pairs < 2) return undefined;
  let evenZeros = 0;
  let oddZeros = 0;
  for (let i = 0; i < pairs; i++) {
    if (head[2 * i] === 0) evenZeros++;
    if (head[2 * i + 1] === 0) oddZeros++;
  }
  if (oddZeros >= pairs * 0.3 && evenZeros <= pairs * 0.02) return 'utf-16le';
  if (evenZeros >= pairs * 0.3 && oddZeros <= pairs * 0.02) return 'utf-16be';
  return undefined;
}

/**
 * Binary data of 16-bit numbers has NULs in every other place too; its "text" is mostly control
 * characters and unassigned code points, where a UTF-16 text file's is letters.
 */
function looksLikeText(text: string | undefined): boolean {
  if (text === undefined || text === '') return false;
  let odd = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || (c >= 0x7f && c < 0xa0) || (c >= 0xe000 && c <= 0xf8ff)) odd++;
  }
  return odd <= text.length * 0.02;
}

/** `text` decoded strictly, or undefined when `encoding` does not allow its bytes (a character cut at the end is dropped). */
function tryDecode(encoding: string, bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder(encoding, { fatal: true }).decode(bytes, { stream: true });
  } catch {
    return undefined;
  }
}

const isIdeographOrPunct = (c: number) =>
  (c >= 0x4e00 && c <= 0x9fff) || // CJK Unified Ideographs
  (c >= 0x3400 && c <= 0x4dbf) || // Extension A
  (c >= 0x3000 && c <= 0x303f) || // CJK symbols and punctuation
  (c >= 0xff01 && c <= 0xff5e) || // full-width ASCII forms
  (c >= 0xffe0 && c <= 0xffe6); // full-width signs
const isKana = (c: number) => c >= 0x3040 && c <= 0x30ff;

/** How the non-ASCII characters of `text` read: how many, how many are CJK text, how many kana. */
function cjkEvidence(text: string): { other: number; cjk: number; kana: number } {
  let other = 0;
  let cjk = 0;
  let kana = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    other++;
    if (isKana(c)) {
      kana++;
      cjk++;
    } else if (isIdeographOrPunct(c)) cjk++;
  }
  return { other, cjk, kana };
}

/**
 * The share of the double-byte characters of `bytes` whose two bytes are both in 0xA1–0xFE: the
 * shape of GB2312 (and EUC) text, where every common Chinese character lives. Latin-1 text read
 * this way gives pairs of an accented letter and an ASCII one, which never have that shape.
 */
function gb2312Shape(bytes: Uint8Array): number {
  let pairs = 0;
  let shaped = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    if (b < 0x80) continue;
    const t = bytes[i + 1];
    if (t === undefined) break;
    pairs++;
    if (b >= 0xa1 && b <= 0xfe && t >= 0xa1 && t <= 0xfe) shaped++;
    i++;
  }
  return pairs === 0 ? 0 : shaped / pairs;
}

export type EncodingVerdict =
  /** The encoding to read the file in; `bom`: the file starts with its byte order mark. */
  | { encoding: string; bom: boolean; detected: boolean }
  /** Text in a legacy encoding not found with certainty: the sentence to refuse it with. */
  | { problem: string };

const OPTION_HINT = 'set the import option "encoding"';

/**
 * The encoding of a text file from its first bytes, or `encoding` when the user named one (a byte
 * order mark that says otherwise is refused: one of the two is wrong). `whole`: the head is the
 * whole file. Returns undefined for bytes that are no text in any encoding found (binary).
 */
export function detectEncoding(head: Buffer, whole: boolean, encoding?: string): EncodingVerdict | undefined {
  const bom = bomOf(head);
  if (encoding !== undefined) {
    if (bom && bom.encoding !== encoding) {
      throw new InvalidFileError(
        `The file starts with a ${encodingTitle(bom.encoding)} byte order mark, but "encoding" names ${encodingTitle(encoding)}; ` +
          `leave "encoding" unset or set it to ${bom.encoding}.`,
      );
    }
    return { encoding, bom: bom !== undefined, detected: false };
  }
  if (bom) return { encoding: bom.encoding, bom: true, detected: true };
  const utf16 = utf16WithoutBom(head);
  if (utf16 && looksLikeText(tryDecode(utf16, head))) return { encoding: utf16, bom: false, detected: true };
  if (head.includes(0)) return undefined;
  const checked = whole ? head : head.subarray(0, head.length - incompleteTail(head));
  if (isUtf8(checked)) return { encoding: UTF8, bom: false, detected: true };
  return legacyEncoding(head);
}

/** Invalid UTF-8: a legacy code page, detected when the evidence is strong, else named as likely. */
function legacyEncoding(head: Buffer): EncodingVerdict {
  const gb = tryDecode('gb18030', head);
  if (gb !== undefined) {
    const e = cjkEvidence(gb);
    if (e.other > 0 && e.cjk === e.other && e.kana === 0 && gb2312Shape(head) >= 0.8)
      return { encoding: 'gb18030', bom: false, detected: true };
  }
  const sjis = tryDecode('shift_jis', head);
  if (sjis !== undefined) {
    const e = cjkEvidence(sjis);
    if (e.kana > 0 && e.cjk === e.other) return { encoding: 'shift_jis', bom: false, detected: true };
  }
  const likely = likelyEncoding(head, gb);
  return {
    problem: `The file is not UTF-8 text; it looks like ${likely}: ${OPTION_HINT} to "${likelyOption(likely)}" (or save the file as UTF-8).`,
  };
}

function likelyEncoding(head: Buffer, gb: string | undefined): string {
  const candidates: Array<[string, string | undefined]> = [
    ['GB18030 (GBK)', gb],
    ['Big5', tryDecode('big5', head)],
    ['Shift_JIS', tryDecode('shift_jis', head)],
  ];
  for (const [name, text] of candidates) {
    if (text === undefined) continue;
    const e = cjkEvidence(text);
    if (e.other > 0 && e.cjk >= e.other * 0.9) return name;
  }
  return 'Windows-1252 (Western European) or another ISO-8859 code page';
}

function likelyOption(likely: string): string {
  if (likely.startsWith('GB18030')) return 'gb18030';
  if (likely === 'Big5') return 'big5';
  if (likely === 'Shift_JIS') return 'shift_jis';
  return 'windows-1252';
}

/**
 * Strict decoding of a file that arrives in chunks, in any encoding: a character split across
 * chunks is joined, and a byte sequence the encoding does not allow is an InvalidFileError that
 * says roughly where. The BOM of the encoding is removed unless `keepBOM`.
 */
export class StrictTextDecoder {
  private readonly decoder: TextDecoder;
  private bytesRead = 0;

  constructor(
    readonly encoding: string,
    private readonly advice: string,
    opts: { keepBOM?: boolean } = {},
  ) {
    this.decoder = new TextDecoder(encoding, { fatal: true, ignoreBOM: opts.keepBOM ?? false });
  }

  /** The text of `chunk`, or without one, whatever an unfinished character left at the end. */
  decode(chunk?: Buffer): string {
    try {
      const text = chunk ? this.decoder.decode(chunk, { stream: true }) : this.decoder.decode();
      if (chunk) this.bytesRead += chunk.length;
      return text;
    } catch {
      if (this.encoding === UTF8)
        throw new InvalidFileError(
          `The file is not UTF-8 text (an invalid byte sequence near byte ${this.bytesRead}); ${this.advice} Or, if it is in another encoding, name it in the import option "encoding".`,
        );
      throw new InvalidFileError(
        `The file is not valid ${encodingTitle(this.encoding)} text (a byte sequence that encoding does not allow near byte ${this.bytesRead}); ` +
          'set "encoding" to the encoding it was saved in, or save it as UTF-8.',
      );
    }
  }
}

/**
 * Row readers for the tests of row-reader-thread.ts, run in its worker thread: this module is what
 * a format's `thread` names. Loaded alone in the thread, it starts nothing.
 */
import { InvalidFileError } from '../../../../src/errors.js';
import type { ImportedRow, RowReadOptions } from '../../../../src/formats/format.js';
import { UnstorableValue } from '../../../../src/formats/values.js';

/** An error class of the reader's own module, as `UnknownSheetError` is the xlsx reader's. */
export class OddFileError extends InvalidFileError {
  override name = 'OddFileError';
  constructor(
    message: string,
    readonly part: string,
  ) {
    super(message, { part });
  }
}

/** Every kind of value a reader gives. */
export function craftedRows(): ImportedRow[] {
  return [
    {
      line: 2,
      row: {
        text: 'Widget, "large" 中文 🚀\n',
        int: 9007199254740991,
        float: -1e-9,
        zero: -0,
        nan: Number.NaN,
        inf: Number.NEGATIVE_INFINITY,
        big: 2n ** 70n,
        yes: true,
        no: false,
        at: new Date('2024-05-01T12:34:56.789Z'),
        bad: new Date(Number.NaN),
        none: null,
        unstorable: new UnstorableValue('is a timestamp past the years a date holds'),
      },
    },
    { line: 7, row: { text: '', int: 0, unstorable: null, none: new UnstorableValue('another reason') } },
  ];
}

export async function* readCrafted(): AsyncIterable<ImportedRow> {
  yield* craftedRows();
}

/** `path` is a number of rows, then an error if `opts.sheet` names one. */
export async function* readMany(path: string, opts: RowReadOptions = {}): AsyncIterable<ImportedRow> {
  const n = Number(path);
  for (let i = 0; i < n; i++) yield { line: i + 2, row: { n: i, text: `row ${i}` } };
  if (opts.sheet === 'invalid') throw new InvalidFileError('The file is damaged after its rows.', { at: n });
  if (opts.sheet === 'odd') throw new OddFileError('The file is odd.', 'xl/odd.xml');
  if (opts.sheet === 'type') throw new TypeError('not a reader error');
  if (opts.sheet === 'string') throw 'a thrown string';
}

/** Rows without end; none at all when `path` is `busy`: a loop that never yields, as a stuck reader. */
export async function* readForever(path: string): AsyncIterable<ImportedRow> {
  if (path === 'busy') for (;;);
  for (let i = 0; ; i++) yield { line: i + 2, row: { n: i } };
}

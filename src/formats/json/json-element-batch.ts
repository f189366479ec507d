/**
 * Parses the JSON elements a scanner captured from one chunk with one `JSON.parse` of the span that
 * holds them (wrapped in "[ ]"), not one call per element: per-call overhead dominated when rows
 * are small. Only when that fails are the elements parsed one by one, to name the invalid one.
 *
 * The grammar feeding it must have checked that only white space and one comma lie between two
 * elements of a chunk, and its owner must `flush()` before the chunk's text goes (at the end of each
 * `write`) and before handing on anything else that follows the elements in the file.
 */

/** A parsed element and the line it starts on. */
export type ElementSink = (value: unknown, line: number) => void;

/** The error for an element that is not valid JSON, starting on `line`; `reason` is JSON.parse's. */
export type InvalidElement = (line: number, reason: string) => Error;

export class JsonElementBatch {
  private text = '';
  private starts: number[] = [];
  private ends: number[] = [];
  private lines: number[] = [];

  constructor(
    private readonly sink: ElementSink,
    private readonly invalid: InvalidElement,
  ) {}

  /**
   * An element in `text` [start, end) starting on `line`. When `inChunk` (the text is the chunk
   * being scanned) it waits for `flush()`; otherwise (an element joined from several chunks) the
   * elements before it are parsed and then it, at once.
   */
  take(text: string, start: number, end: number, line: number, inChunk: boolean): void {
    if (!inChunk) {
      this.flush();
      this.parseEach(text, [start], [end], [line]);
      return;
    }
    if (this.lines.length === 0) this.text = text;
    this.starts.push(start);
    this.ends.push(end);
    this.lines.push(line);
  }

  /** Parses the elements taken since the last flush and hands them on, in order. */
  flush(): void {
    const lines = this.lines;
    const count = lines.length;
    if (count === 0) return;
    const { text, starts, ends } = this;
    this.text = '';
    this.starts = [];
    this.ends = [];
    this.lines = [];
    const span = text.slice(starts[0], ends[count - 1]);
    let values: unknown;
    try {
      values = JSON.parse(count === 1 ? span : `[${span}]`);
    } catch {
      // Some element is invalid: find which (this ends the input).
      this.parseEach(text, starts, ends, lines);
      return;
    }
    if (count === 1) {
      this.sink(values, lines[0] as number);
      return;
    }
    const list = values as unknown[];
    for (let k = 0; k < count; k++) this.sink(list[k], lines[k] as number);
  }

  /** One parse per element; the ones before an invalid element are handed on as they would be alone. */
  private parseEach(text: string, starts: number[], ends: number[], lines: number[]): void {
    for (let k = 0; k < lines.length; k++) {
      let value: unknown;
      try {
        value = JSON.parse(text.slice(starts[k], ends[k]));
      } catch (err) {
        throw this.invalid(lines[k] as number, (err as Error).message);
      }
      this.sink(value, lines[k] as number);
    }
  }
}

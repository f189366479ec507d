/**
 * xlsx by content: a zip (local header "PK\x03\x04") whose first entries are an Office Open XML
 * package's ("[Content_Types].xml", "_rels/", "xl/", "docProps/"). Entry names sit uncompressed in
 * the local headers, so the head of the file is enough.
 */

export const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);

/** The names of the zip entries whose local headers are complete within `head`. */
export function zipEntryNames(head: Buffer, max = 32): string[] {
  const names: string[] = [];
  let at = 0;
  while (names.length < max && at + 30 <= head.length && head.readUInt32LE(at) === 0x04034b50) {
    const flags = head.readUInt16LE(at + 6);
    const compressed = head.readUInt32LE(at + 18);
    const nameLength = head.readUInt16LE(at + 26);
    const extraLength = head.readUInt16LE(at + 28);
    if (at + 30 + nameLength > head.length) break;
    names.push(head.toString('utf8', at + 30, at + 30 + nameLength));
    // With a data descriptor (flag bit 3) the size is not in the header: the next entry cannot be found.
    if (flags & 0x08) break;
    at += 30 + nameLength + extraLength + compressed;
  }
  return names;
}

function isOfficeEntry(name: string): boolean {
  return name === '[Content_Types].xml' || name.startsWith('xl/') || name.startsWith('_rels/') || name.startsWith('docProps/');
}

/** Why the head is not an xlsx file, or undefined when it looks like one. */
export function xlsxHeadProblem(head: Buffer): string | undefined {
  if (head.length < 4 || !head.subarray(0, 4).equals(ZIP_MAGIC)) return 'The file is not an xlsx workbook: it is not a zip archive.';
  const names = zipEntryNames(head);
  if (names.length === 0) return 'The file is not an xlsx workbook: its zip archive is damaged.';
  if (names.some((n) => n.startsWith('word/') || n.startsWith('ppt/'))) {
    return 'The file is a Word or PowerPoint document, not an xlsx workbook.';
  }
  if (names.includes('mimetype') || names.includes('content.xml')) return 'The file is an OpenDocument file (.ods), not an xlsx workbook.';
  if (!names.some(isOfficeEntry))
    return 'The file is a zip archive but not an xlsx workbook (it has no [Content_Types].xml or xl/ entries).';
  return undefined;
}

/** Whether the first bytes of a file look like an xlsx workbook (a zip holding an Office package). */
export function isXlsx(head: Buffer): boolean {
  return xlsxHeadProblem(head) === undefined;
}

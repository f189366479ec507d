/** Excel's rules for a sheet name: 1–31 characters, none of \ / ? * [ ] :, no apostrophe at either end. */

export const XLSX_SHEET_NAME_MAX = 31;

/** The table's name made into a sheet name Excel accepts (forbidden characters become `_`). */
export function xlsxSheetName(tableName: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: Excel refuses control characters in sheet names; they are replaced.
  let name = tableName.replace(/[\\/?*[\]:\u0000-\u001f]/g, '_').replace(/^'+|'+$/g, '');
  // Excel counts UTF-16 units; cut between code points so an emoji is never split in half.
  let cut = '';
  for (const ch of name) {
    if (cut.length + ch.length > XLSX_SHEET_NAME_MAX) break;
    cut += ch;
  }
  name = cut;
  name = name.replace(/'+$/, '').trim();
  // "History" is reserved by Excel.
  if (name === '' || name.toLowerCase() === 'history') return name === '' ? 'Sheet1' : `${name}_`;
  return name;
}

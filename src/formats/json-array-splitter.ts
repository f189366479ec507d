/**
 * The JSON array grammar moved to `json/json-array-splitter.ts`, on the one JSON scanner. This path
 * stays only for `sniff.ts` and `infer-schema.ts`, which other work is changing now: point them at
 * the new path, then delete this file.
 */
export { JsonArraySplitter } from './json/json-array-splitter.js';

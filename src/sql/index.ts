export type {
  CopyExportStatement,
  CopyFileFormat,
  CopyFileType,
  CopyImportStatement,
  CopyOptions,
  CopyStatement,
  TableRef,
} from './copy-into.ast.js';
export { MAX_STATEMENT_LENGTH, parseCopyInto } from './copy-into.parser.js';
export { planCopy, type CopyExportPlan, type CopyImportPlan, type CopyPlan } from './copy-into.plan.js';

export { parameterBinder, settingBinder, settingsSql, type Binder } from './binder.js';
export { compileOrderBy, parseOrderByText, MAX_ORDER_KEYS } from './order-by.compiler.js';
export { queryFields, type QueryField } from './query-fields.js';
export { compileWhere, parseWhereText, WHERE_LIMITS, WHERE_OPERATORS, type CompiledWhere } from './where.compiler.js';
export { assertRegexes } from './regex-check.js';

import type * as ExcelJSModule from 'exceljs';

let cached: typeof ExcelJSModule | undefined;

/**
 * exceljs takes ~300 ms to load, a fifth of a cold start, and only XLSX imports and exports
 * need it: load it on first use.
 */
export function loadExcelJs(): typeof ExcelJSModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  cached ??= require('exceljs') as typeof ExcelJSModule;
  return cached;
}

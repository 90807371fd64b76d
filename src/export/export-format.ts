/**
 * How an export writes its rows: CSV per RFC 4180 (CRLF line ends, fields quoted when they hold a comma,
 * a quote or a line break, quotes doubled) with spreadsheet formula injection defused, or JSON. An
 * unknown value is an empty CSV field and a JSON null, never 0.
 */

export type CellValue = string | number | boolean | Date | null | undefined;

export interface ExportColumn<T> {
  readonly name: string;
  readonly value: (row: T) => CellValue;
}

export type ExportFormat = 'csv' | 'json';

// A spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV injection"); tab and
// carriage return are there because some spreadsheets skip them before reading the formula.
const FORMULA_START = /^[=+\-@\t\r]/;

/** Text a spreadsheet would run as a formula gets a leading apostrophe, which shows it as text. */
export function defuseFormula(text: string): string {
  return FORMULA_START.test(text) ? `'${text}` : text;
}

/** One CSV field: numbers and booleans as written, dates in ISO 8601 (UTC), unknowns empty. */
export function formatCsvCell(value: CellValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  const text = value instanceof Date ? value.toISOString() : defuseFormula(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One CSV record, ending in CRLF. */
export function formatCsvRecord(values: readonly CellValue[]): string {
  return `${values.map(formatCsvCell).join(',')}\r\n`;
}

export function toJsonValue(value: CellValue): string | number | boolean | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (value instanceof Date) return value.toISOString();
  return value;
}

export function formatCsvHeader<T>(columns: readonly ExportColumn<T>[]): string {
  return formatCsvRecord(columns.map((column) => column.name));
}

export function formatCsvRows<T>(columns: readonly ExportColumn<T>[], rows: readonly T[]): string {
  return rows.map((row) => formatCsvRecord(columns.map((column) => column.value(row)))).join('');
}

export function toJsonRow<T>(columns: readonly ExportColumn<T>[], row: T): Record<string, unknown> {
  return Object.fromEntries(columns.map((column) => [column.name, toJsonValue(column.value(row))]));
}

/** The download's file name: `merit-<kind>-<UTC date>.<format>`. */
export function exportFileName(kind: string, format: ExportFormat, now: Date): string {
  return `merit-${kind}-${now.toISOString().slice(0, 10)}.${format}`;
}

import type { PagePosition } from '../lib/paging.js';
import {
  type ExportColumn,
  type ExportFormat,
  formatCsvHeader,
  formatCsvRows,
  toJsonRow,
} from './export-format.js';

/** Rows read per query: memory holds one page at a time, whatever the export's size. */
export const EXPORT_PAGE_ROWS = 500;

type PagedRow = { id: string; cursor_at: string };

/**
 * Reads a keyset-paged list to its end, one page per step. The first page is read at once, so a failure
 * before any byte is sent still becomes an error response; later pages are read as the client takes them.
 */
export async function openPages<T extends PagedRow>(
  readPage: (after: PagePosition | undefined, limit: number) => Promise<T[]>,
  pageRows = EXPORT_PAGE_ROWS,
): Promise<AsyncIterable<T[]>> {
  const first = await readPage(undefined, pageRows);
  return (async function* () {
    let page = first;
    while (page.length > 0) {
      yield page;
      const last = page[page.length - 1];
      if (page.length < pageRows || !last) return;
      page = await readPage({ at: last.cursor_at, id: last.id }, pageRows);
    }
  })();
}

/** The whole of an in-memory list (a leaderboard: one row per agent) as pages. */
export async function* onePage<T>(rows: readonly T[]): AsyncIterable<T[]> {
  if (rows.length > 0) yield [...rows];
}

/**
 * The export's body as a stream pulled by the client: a page is read only when the previous one was
 * taken (a slow download holds one page, not the history). JSON: `{ export, generated_at, filters,
 * rows: [...] }`. A failure mid-way ends the stream with an error, so the download is visibly cut short.
 */
export function streamExport<T>(input: {
  format: ExportFormat;
  kind: string;
  columns: readonly ExportColumn<T>[];
  pages: AsyncIterable<T[]>;
  filters: Record<string, string | number | boolean | null>;
  generatedAt: Date;
  onError: (error: unknown) => void;
}): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const iterator = input.pages[Symbol.asyncIterator]();
  let started = false;
  let wroteRow = false;
  let finished = false;
  const head = () =>
    input.format === 'csv'
      ? formatCsvHeader(input.columns)
      : `{"export":${JSON.stringify(input.kind)},"generated_at":${JSON.stringify(input.generatedAt.toISOString())},"filters":${JSON.stringify(input.filters)},"rows":[`;
  const body = (rows: readonly T[]) => {
    if (input.format === 'csv') return formatCsvRows(input.columns, rows);
    const text = rows.map((row) => JSON.stringify(toJsonRow(input.columns, row))).join(',');
    const separator = wroteRow ? ',' : '';
    wroteRow = true;
    return `${separator}${text}`;
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!started) {
        started = true;
        controller.enqueue(encoder.encode(head()));
        return;
      }
      try {
        const next = await iterator.next();
        if (next.done) {
          finished = true;
          if (input.format === 'json') controller.enqueue(encoder.encode(']}'));
          controller.close();
          return;
        }
        if (next.value.length > 0) controller.enqueue(encoder.encode(body(next.value)));
      } catch (error) {
        input.onError(error);
        controller.error(error);
      }
    },
    async cancel() {
      // The client went away: stop reading pages.
      if (!finished) await iterator.return?.(undefined);
    },
  });
}

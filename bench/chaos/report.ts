import type { CampaignResult } from './campaign.js';
import type { ScenarioResult } from './scenario.js';

function table(header: string[], rows: string[][]): string {
  const widths = header.map((cell, column) =>
    Math.max(cell.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: string[]) =>
    `| ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(' | ')} |`;
  return [
    line(header),
    `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`,
    ...rows.map(line),
  ].join('\n');
}

function mark(ok: boolean, text: string): string {
  return ok ? text : `${text} ✗`;
}

function goalOk(result: ScenarioResult, name: string): boolean {
  return result.goals.find((goal) => goal.name === name)?.ok ?? false;
}

/** The details of one scenario: statuses, samples of bad answers, lost writes, drift, Merit's log. */
export function formatScenarioDetails(result: ScenarioResult): string {
  const lines = [`\n## ${result.name}: ${result.title} (${result.seconds.toFixed(1)} s)`];
  const statuses = Object.entries(result.statuses)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([code, count]) => `${code}:${count}`)
    .join(' ');
  lines.push(`  requests ${result.requests}; statuses ${statuses || 'none'}`);
  lines.push(`  acknowledged writes ${result.acknowledged}, found in the database ${result.found}`);
  lines.push(
    `  stats drift ${result.drift === undefined ? 'not measured' : `${result.drift} of ${result.driftRows} rows`}`,
  );
  lines.push(
    `  recovery ${result.recoveryMs === undefined ? 'none within the bounded wait' : `${(result.recoveryMs / 1000).toFixed(2)} s`}; SIGTERM ${result.exitedBeforeStop ? 'not sent (Merit was not running)' : result.stoppedBySigterm ? `stopped Merit in ${(result.stopMs / 1000).toFixed(2)} s` : 'did not stop Merit (killed)'}`,
  );
  if (result.unavailableWithoutRetryAfter > 0)
    lines.push(`  503 answers without Retry-After: ${result.unavailableWithoutRetryAfter}`);
  for (const goal of result.goals.filter((g) => !g.ok)) lines.push(`  MISSED ${goal.name}: ${goal.detail}`);
  const samples = (
    title: string,
    items: { method: string; path: string; body?: string; outcome: string }[],
  ) => {
    if (items.length === 0) return;
    lines.push(`  ${title}:`);
    for (const item of items)
      lines.push(
        `    ${item.method} ${item.path}${item.body ? ` body ${item.body}` : ''} -> ${item.outcome}`,
      );
  };
  samples('500 answers', result.samples500);
  samples('hangs', result.hangSamples);
  samples('connections refused or dropped', result.connectionSamples);
  samples('error answers without the JSON error shape', result.badErrorBodySamples);
  if (result.missing.length > 0) lines.push('  lost writes:', ...result.missing.map((m) => `    ${m}`));
  if (result.drift !== 0 && result.driftSamples.length > 0)
    lines.push('  drift:', ...result.driftSamples.map((d) => `    ${d}`));
  if (result.logLineCount > 0) {
    lines.push(`  Merit log (${result.logLineCount} error/warning lines, first ${result.logLines.length}):`);
    lines.push(...result.logLines.map((line) => `    ${line}`));
  }
  for (const note of result.notes) lines.push(`  note: ${note}`);
  return lines.join('\n');
}

/** The summary table, with the goal figures. */
export function formatSummary(campaign: CampaignResult): string {
  const rows = campaign.scenarios.map((r) => [
    r.name,
    String(r.requests),
    String(Object.entries(r.statuses).reduce((sum, [code, n]) => sum + (code.startsWith('2') ? n : 0), 0)),
    String(Object.entries(r.statuses).reduce((sum, [code, n]) => sum + (code.startsWith('4') ? n : 0), 0)),
    mark(r.status500 === 0, String(r.status500)),
    String(r.statuses['503'] ?? 0),
    mark(r.hangs === 0, String(r.hangs)),
    String(r.connectionErrors),
    mark(goalOk(r, 'acknowledged writes lost'), `${r.found}/${r.acknowledged}`),
    mark(r.drift === 0, r.drift === undefined ? 'n/a' : String(r.drift)),
    mark(
      goalOk(r, 'recovery'),
      r.recoveryMs === undefined ? 'none' : `${(r.recoveryMs / 1000).toFixed(2)} s`,
    ),
    mark(
      goalOk(r, 'stopped by SIGTERM'),
      r.exitedBeforeStop ? 'exited' : r.stoppedBySigterm ? `${(r.stopMs / 1000).toFixed(1)} s` : 'killed',
    ),
    r.passed ? 'PASS' : 'FAIL',
  ]);
  const goalRow = ['goal', '', '', '', '0', '', '0', '', 'all', '0', '< 10 s', '< 10 s', ''];
  return [
    `\nFault campaign summary (${campaign.options.quick ? 'quick' : 'full'}, seed ${campaign.options.seed}, ${campaign.databaseServer} PostgreSQL, ${campaign.seconds.toFixed(0)} s)`,
    table(
      [
        'scenario',
        'requests',
        '2xx',
        '4xx',
        '500',
        '503',
        'hangs',
        'conn err',
        'writes found',
        'drift',
        'recovery',
        'SIGTERM',
        'result',
      ],
      [...rows, goalRow],
    ),
    `hang = no answer within ${campaign.options.hangMs / 1000} s; conn err = connection refused/reset (expected only around kill -9); ` +
      'writes found = acknowledged (2xx) writes present in the database afterwards; drift = statistics rows differing from a recompute.',
    campaign.passed
      ? 'All goals met.'
      : `Goals missed in: ${campaign.scenarios
          .filter((r) => !r.passed)
          .map((r) => r.name)
          .join(', ')}.`,
  ].join('\n');
}

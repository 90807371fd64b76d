import { beforeAll, describe, expect, inject, it } from 'vitest';
import { type CampaignResult, runCampaign, SCENARIOS } from '../../bench/chaos/campaign.js';
import { formatScenarioDetails } from '../../bench/chaos/report.js';

/**
 * The short form of `npm run chaos`: a few seconds of each fault scenario against a real Merit process.
 * It asserts counts (hangs, 500s, lost writes, drift, crashes) and that Merit recovered and stopped
 * within the bounded waits; timings are the campaign's figures, not assertions.
 */
describe('fault campaign (quick)', () => {
  let campaign: CampaignResult;

  beforeAll(async () => {
    const servers = inject('databaseServers');
    const server = servers.find((candidate) => candidate.kind === 'system') ?? servers[0];
    campaign = await runCampaign({
      quick: true,
      seed: 1,
      progress: 'silent',
      log: () => {},
      ...(server ? { databaseServer: { adminUrl: server.adminUrl, kind: server.kind } } : {}),
    });
  }, 600_000);

  for (const scenario of SCENARIOS) {
    it(`${scenario.name}: ${scenario.title} keeps every acknowledged write, with no hang, 500, drift or crash`, () => {
      const result = campaign.scenarios.find((candidate) => candidate.name === scenario.name);
      expect(result, `${scenario.name} did not run`).toBeDefined();
      if (!result) return;
      const figures = {
        ranToEnd: result.goals.find((goal) => goal.name === 'ran to the end')?.ok,
        hangs: result.hangs,
        status500: result.status500,
        otherServerErrors: result.otherServerErrors,
        errorBodiesWithoutJsonShape: result.badErrorBodies,
        acknowledgedWritesLost: result.lost,
        statsDriftRows: result.drift,
        recoveredWithinBoundedWait: result.recoveryMs !== undefined,
        unexpectedExits: result.unexpectedExits.length,
        stoppedBySigtermWithinBound: result.stoppedBySigterm,
      };
      expect(figures, formatScenarioDetails(result)).toEqual({
        ranToEnd: true,
        hangs: 0,
        status500: 0,
        otherServerErrors: 0,
        errorBodiesWithoutJsonShape: 0,
        acknowledgedWritesLost: 0,
        statsDriftRows: 0,
        recoveredWithinBoundedWait: true,
        unexpectedExits: 0,
        stoppedBySigtermWithinBound: true,
      });
      expect(result.acknowledged).toBeGreaterThan(0);
    });
  }
});

import { describe, expect, it } from 'vitest';
import { dedupeEntries, FinishedTaskWriter, type WriteEntry } from '../../src/tasks/finished-task-writer.js';

type Entry = WriteEntry<{ id: string }, never>;
const entry = (id: string): Entry => ({ record: { id }, nodes: [] });

/** A fake statement runner that records each call and lets the test release it. */
function createStatements(options: { failWhen?: (ids: string[]) => boolean; existing?: string[] } = {}) {
  const calls: string[][] = [];
  const releases: (() => void)[] = [];
  const stored = new Set(options.existing ?? []);
  const write = (entries: readonly Entry[]) => {
    const ids = entries.map((e) => e.record.id);
    calls.push(ids);
    return new Promise<ReadonlySet<string>>((resolve, reject) => {
      releases.push(() => {
        if (options.failWhen?.(ids)) return reject(new Error(`statement with ${ids.join(',')} failed`));
        const inserted = new Set(ids.filter((id) => !stored.has(id)));
        for (const id of inserted) stored.add(id);
        resolve(inserted);
      });
    });
  };
  const releaseAll = async () => {
    while (releases.length > 0) {
      releases.shift()?.();
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  return { calls, write, releaseAll };
}

describe('FinishedTaskWriter', () => {
  it('writes a request at once when nothing is in flight', async () => {
    const statements = createStatements();
    const writer = new FinishedTaskWriter(statements.write, { maxInFlight: 1, maxTasksPerStatement: 100 });
    const result = writer.submit([entry('a')]);
    expect(statements.calls).toEqual([['a']]);
    await statements.releaseAll();
    expect([...(await result)]).toEqual(['a']);
  });

  it('shares one statement among the requests that arrive while another is in flight', async () => {
    const statements = createStatements();
    const writer = new FinishedTaskWriter(statements.write, { maxInFlight: 1, maxTasksPerStatement: 100 });
    const first = writer.submit([entry('a')]);
    const second = writer.submit([entry('b')]);
    const third = writer.submit([entry('c'), entry('d')]);
    await statements.releaseAll();
    expect(statements.calls).toEqual([['a'], ['b', 'c', 'd']]);
    expect([...(await first)]).toEqual(['a']);
    expect([...(await second)]).toEqual(['b']);
    expect([...(await third)]).toEqual(['c', 'd']);
  });

  it('credits a task id sent twice to the first request only, and a stored id to nobody', async () => {
    const statements = createStatements({ existing: ['old'] });
    const writer = new FinishedTaskWriter(statements.write, { maxInFlight: 1, maxTasksPerStatement: 100 });
    const blocker = writer.submit([entry('x')]);
    const first = writer.submit([entry('dup'), entry('old')]);
    const second = writer.submit([entry('dup')]);
    await statements.releaseAll();
    await blocker;
    expect(statements.calls[1]).toEqual(['dup', 'old']);
    expect([...(await first)]).toEqual(['dup']);
    expect([...(await second)]).toEqual([]);
  });

  it("retries a failed shared statement request by request, so one request's failure is not another's", async () => {
    const statements = createStatements({ failWhen: (ids) => ids.includes('bad') });
    const writer = new FinishedTaskWriter(statements.write, { maxInFlight: 1, maxTasksPerStatement: 100 });
    const blocker = writer.submit([entry('x')]);
    const good = writer.submit([entry('good')]);
    const bad = writer.submit([entry('bad')]);
    const settled = Promise.allSettled([good, bad]);
    await statements.releaseAll();
    await blocker;
    const [goodResult, badResult] = await settled;
    expect(goodResult).toEqual({ status: 'fulfilled', value: new Set(['good']) });
    expect(badResult.status).toBe('rejected');
    expect(statements.calls).toEqual([['x'], ['good', 'bad'], ['good'], ['bad']]);
  });

  it('caps the tasks of one shared statement', async () => {
    const statements = createStatements();
    const writer = new FinishedTaskWriter(statements.write, { maxInFlight: 1, maxTasksPerStatement: 2 });
    const all = [
      writer.submit([entry('a')]),
      writer.submit([entry('b')]),
      writer.submit([entry('c')]),
      writer.submit([entry('d')]),
    ];
    await statements.releaseAll();
    await Promise.all(all);
    expect(statements.calls).toEqual([['a'], ['b', 'c'], ['d']]);
  });

  it('keeps the first entry of each id', () => {
    expect(dedupeEntries([entry('a'), entry('b'), entry('a')]).map((e) => e.record.id)).toEqual(['a', 'b']);
  });
});

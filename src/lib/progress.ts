/** A progress display for long work: a bar on a terminal, periodic lines otherwise (logs, CI). */
export interface Progress {
  update(done: number, detail?: string): void;
  finish(detail?: string): void;
}

export function createProgress(label: string, total: number, mode: 'bar' | 'lines' | 'silent'): Progress {
  const started = Date.now();
  let lastLine = 0;
  const describe = (done: number) => {
    const elapsed = (Date.now() - started) / 1000;
    const rate = done / Math.max(elapsed, 0.001);
    const eta = rate > 0 ? (total - done) / rate : 0;
    return `${done}/${total} (${Math.round((done / Math.max(total, 1)) * 100)}%) ${rate.toFixed(0)}/s, eta ${eta.toFixed(0)}s`;
  };
  return {
    update(done, detail) {
      if (mode === 'silent') return;
      if (mode === 'bar') {
        const width = 30;
        const filled = Math.round((done / Math.max(total, 1)) * width);
        process.stderr.write(
          `\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${describe(done)}${detail ? ` ${detail}` : ''}   `,
        );
        return;
      }
      if (Date.now() - lastLine > 1000 || done === total) {
        lastLine = Date.now();
        process.stderr.write(`${label}: ${describe(done)}${detail ? ` ${detail}` : ''}\n`);
      }
    },
    finish(detail) {
      this.update(total, detail);
      if (mode === 'bar') process.stderr.write('\n');
    },
  };
}

/** One server-sent event as read from a stream. */
export interface SseEvent {
  event: string;
  data: string;
}

/** An open `/api/events` response, read event by event. */
export class EventReader {
  readonly events: SseEvent[] = [];
  private buffer = '';
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();

  constructor(response: Response) {
    if (!response.body) throw new Error('no body');
    this.reader = response.body.getReader();
  }

  /** Reads until an event satisfies the predicate (the test's own timeout bounds the wait). */
  async waitFor(predicate: (event: SseEvent) => boolean): Promise<SseEvent> {
    for (;;) {
      const found = this.events.find(predicate);
      if (found) return found;
      const { done, value } = await this.reader.read();
      if (done) throw new Error('stream ended');
      this.buffer += this.decoder.decode(value, { stream: true });
      let end = this.buffer.indexOf('\n\n');
      while (end !== -1) {
        const block = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 2);
        const lines = block.split('\n');
        const event = lines.find((line) => line.startsWith('event: '))?.slice(7);
        const data = lines
          .filter((line) => line.startsWith('data: '))
          .map((line) => line.slice(6))
          .join('\n');
        if (event) this.events.push({ event, data });
        end = this.buffer.indexOf('\n\n');
      }
    }
  }

  /** Task ids of the `task` events read so far. */
  taskIds(): string[] {
    return this.events.filter((event) => event.event === 'task').map((event) => JSON.parse(event.data).id);
  }

  close(): Promise<void> {
    return this.reader.cancel();
  }
}

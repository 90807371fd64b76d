/** In-process fan-out of live events (task changes, leaderboard changes) to SSE subscribers. */
export type LiveEvent =
  | { type: 'task'; userId: string; taskId: string }
  | { type: 'leaderboard'; agentIds: string[] };

export class EventBus {
  private readonly listeners = new Set<(event: LiveEvent) => void>();

  subscribe(listener: (event: LiveEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(event: LiveEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  get size(): number {
    return this.listeners.size;
  }
}

export type Route = { name: 'home' } | { name: 'agent'; agentId: string };

/** Reads `#/agents/<id>`; anything else is the home view. */
export function parseRoute(hash: string): Route {
  const match = /^#\/agents\/([^/?#]+)\/?$/.exec(hash);
  if (match?.[1]) {
    try {
      return { name: 'agent', agentId: decodeURIComponent(match[1]) };
    } catch {
      return { name: 'home' };
    }
  }
  return { name: 'home' };
}

export function buildAgentHash(agentId: string): string {
  return `#/agents/${encodeURIComponent(agentId)}`;
}

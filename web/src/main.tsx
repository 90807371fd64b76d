import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app.js';
import { createApiClient } from './lib/api-client.js';
import { ApiProvider } from './lib/api-context.js';
import { resolveUserId } from './lib/user-id.js';
import './styles.css';

function readStorage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

const root = document.getElementById('root');
if (!root) throw new Error('index.html must contain #root');

// The status, arena, admin and export features fetch through TanStack Query.
const queryClient = new QueryClient({
  defaultOptions: { queries: { retry: 1, refetchOnWindowFocus: false } },
});
const client = createApiClient({ userId: resolveUserId(window.location.search, readStorage()) });

createRoot(root).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <ApiProvider client={client}>
        <App />
      </ApiProvider>
    </QueryClientProvider>
  </StrictMode>,
);

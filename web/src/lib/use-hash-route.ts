import { useEffect, useState } from 'react';
import { parseRoute, parseViewState, type Route, type ViewState } from './route.js';

function readHash(): { route: Route; view: ViewState; hash: string } {
  const hash = window.location.hash;
  return { route: parseRoute(hash), view: parseViewState(hash), hash };
}

/** The view and its state (tab, range, stream filters) as the page's hash says, following changes. */
export function useHashRoute(): Route & { view: ViewState; hash: string } {
  const [state, setState] = useState(readHash);
  useEffect(() => {
    const update = () => setState(readHash());
    window.addEventListener('hashchange', update);
    return () => window.removeEventListener('hashchange', update);
  }, []);
  return { ...state.route, view: state.view, hash: state.hash };
}

/** Replaces the hash without a new history entry for every keystroke of a filter (a `hashchange` follows). */
export function replaceHash(hash: string): void {
  if (window.location.hash === hash) return;
  const url = `${window.location.pathname}${window.location.search}${hash}`;
  window.history.replaceState(window.history.state, '', url);
  window.dispatchEvent(new HashChangeEvent('hashchange'));
}

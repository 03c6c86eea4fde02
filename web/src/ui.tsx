import { createContext, useCallback, useContext, useEffect, useRef, useState, type ReactNode } from 'react';
import { api, ApiError } from './api.ts';
import { label } from './domain.ts';
import type { RuntimeConfig, Session } from './session.ts';
import type { Service } from './types.ts';

export interface AppState {
  config: RuntimeConfig;
  session: Session;
  /** The server's time (the embedded stack's clock may be simulated), refreshed on every page. */
  now: string;
  clockKind: 'system' | 'simulated' | 'browser';
  refreshNow(): void;
  signOut(message?: string): void;
  services: Service[];
  providerName(id: string): string;
}

export const AppContext = createContext<AppState | undefined>(undefined);

export function useApp(): AppState {
  const app = useContext(AppContext);
  if (!app) throw new Error('useApp outside the signed-in app');
  return app;
}

/** Load one GET route; `path` null waits. Errors are kept, never thrown. */
export function useResource<T>(path: string | null) {
  // What was loaded is kept with the path and load it came from: another path never shows it, a
  // reload of the same one keeps showing it until the new answer is in. Loading is derived, so the
  // effect sets state only when an answer arrives.
  const [tick, setTick] = useState(0);
  const [state, setState] = useState<{ path: string | null; tick: number; data?: T; error?: ApiError }>({ path: null, tick: -1 });
  useEffect(() => {
    if (path === null) return;
    const controller = new AbortController();
    api<T>('GET', path, { signal: controller.signal })
      .then((data) => setState({ path, tick, data }))
      .catch((error: unknown) => {
        if ((error as Error).name === 'AbortError') return;
        setState({ path, tick, error: error instanceof ApiError ? error : new ApiError(0, 'Error', String(error)) });
      });
    return () => controller.abort();
  }, [path, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  const setData = useCallback((data: T) => setState({ path, tick, data }), [path, tick]);
  const same = state.path === path;
  return { data: same ? state.data : undefined, error: same ? state.error : undefined, loading: path !== null && (!same || state.tick !== tick), reload, setData };
}

/** The page's title and its h1, focused when the page changes so screen readers start there. */
export function PageTitle({ children, title }: { children: ReactNode; title?: string }) {
  const ref = useRef<HTMLHeadingElement>(null);
  const text = title ?? (typeof children === 'string' ? children : undefined);
  useEffect(() => {
    if (text) document.title = `${text} · Wraparound`;
    ref.current?.focus({ preventScroll: true });
  }, [text]);
  return (
    <h1 ref={ref} tabIndex={-1} className="page-title">
      {children}
    </h1>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="loading" role="status">
      Loading {what}…
    </p>
  );
}

/** A failed load: what happened and what to do, with a retry. */
export function LoadError({ error, what, onRetry }: { error: ApiError; what: string; onRetry?: () => void }) {
  return (
    <div className="panel panel-error" role="alert">
      <h2 className="panel-title">Could not load {what}</h2>
      <p>
        {error.status ? `${error.status} ${error.title}: ` : ''}
        {error.message}
      </p>
      {onRetry && (
        <button type="button" className="button secondary" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Notice({ children, tone = 'success' }: { children: ReactNode; tone?: 'success' | 'info' | 'warning' }) {
  return (
    <div className={`notice notice-${tone}`} role="status">
      {children}
    </div>
  );
}

export function StageBadge({ stage }: { stage: string }) {
  return <span className={`badge stage-${stage}`}>{label(stage)}</span>;
}

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge status-${status}`}>{label(status)}</span>;
}

export function Section({ title, id, children, actions }: { title: string; id?: string; children: ReactNode; actions?: ReactNode }) {
  const headingId = `${id ?? title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-heading`;
  return (
    <section className="card" aria-labelledby={headingId} {...(id ? { id } : {})}>
      <div className="card-head">
        <h2 id={headingId}>{title}</h2>
        {actions}
      </div>
      {children}
    </section>
  );
}

/** Key-value pairs, readable at any width. */
export function Facts({ items, grid }: { items: [string, ReactNode][]; grid?: boolean }) {
  return (
    <dl className={grid ? 'plan-item-facts' : 'facts'}>
      {items
        .filter(([, v]) => v !== undefined && v !== null && v !== '')
        .map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
    </dl>
  );
}

export function VisuallyHidden({ children }: { children: ReactNode }) {
  return <span className="visually-hidden">{children}</span>;
}

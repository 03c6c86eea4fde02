import { useCallback, useEffect, useMemo, useState, type ReactNode } from 'react';
import { api, configureApi } from './api.ts';
import { everyDirectoryService } from './directory.ts';
import { label, type Role } from './domain.ts';
import { formatDateTime } from './format.ts';
import type { APP_PATHS } from './paths.ts';
import { Link, match, navigate, useLocation } from './router.tsx';
import { revokeRefreshToken, signOutUrl } from './hosted-ui.ts';
import { currentToken, homeOf, keepNotice, loadConfig, storedSession, storeSession, takeNotice, type RuntimeConfig, type Session } from './session.ts';
import type { Service } from './types.ts';
import { AppContext, Loading, PageTitle, type AppState } from './ui.tsx';
import { SignInPage } from './pages/sign-in.tsx';
import { WorklistPage } from './pages/worklist.tsx';
import { ReferralPage } from './pages/referral.tsx';
import { PlanPage } from './pages/plan.tsx';
import { EscalationsPage } from './pages/escalations.tsx';
import { InboxPage } from './pages/inbox.tsx';
import { CaseloadPage } from './pages/caseload.tsx';
import { AllocationPage } from './pages/allocation.tsx';
import { WebhookPage } from './pages/webhook.tsx';
import { DashboardPage } from './pages/dashboard.tsx';
import { AuditPage } from './pages/audit.tsx';
import { ServicesPage } from './pages/services.tsx';

interface RouteDef {
  pattern: (typeof APP_PATHS)[number];
  roles: readonly Role[];
  render: (params: Record<string, string>) => ReactNode;
}

const ROUTES: RouteDef[] = [
  { pattern: '/worklist', roles: ['coordinator', 'team-lead'], render: () => <WorklistPage /> },
  { pattern: '/referrals/new', roles: ['coordinator'], render: () => <ReferralPage /> },
  { pattern: '/plan/:planId', roles: ['coordinator', 'team-lead'], render: (p) => <PlanPage key={p.planId} planId={p.planId as string} /> },
  { pattern: '/escalated', roles: ['team-lead'], render: () => <EscalationsPage /> },
  { pattern: '/inbox', roles: ['provider'], render: () => <InboxPage /> },
  { pattern: '/caseload', roles: ['provider'], render: () => <CaseloadPage /> },
  { pattern: '/caseload/:allocationId', roles: ['provider', 'coordinator'], render: (p) => <AllocationPage key={p.allocationId} allocationId={p.allocationId as string} /> },
  { pattern: '/webhook', roles: ['provider', 'team-lead'], render: () => <WebhookPage /> },
  { pattern: '/dashboard', roles: ['commissioner', 'team-lead'], render: () => <DashboardPage /> },
  { pattern: '/audit-log', roles: ['team-lead'], render: () => <AuditPage /> },
  { pattern: '/services', roles: ['team-lead'], render: () => <ServicesPage /> },
];

const NAV: Record<Role, [string, string][]> = {
  coordinator: [
    ['/worklist', 'Worklist'],
    ['/referrals/new', 'New referral'],
  ],
  'team-lead': [
    ['/escalated', 'Escalations'],
    ['/worklist', 'Worklist'],
    ['/dashboard', 'Figures'],
    ['/webhook', 'Webhooks'],
    ['/services', 'Services'],
    ['/audit-log', 'Audit log'],
  ],
  provider: [
    ['/inbox', 'Offers'],
    ['/caseload', 'Caseload'],
    ['/webhook', 'Webhook'],
  ],
  commissioner: [['/dashboard', 'Figures']],
};

interface HsdsService {
  id?: string;
  x_service_id?: string;
  name?: string;
  status?: string;
  organization?: { name?: string; x_provider_id?: string };
  service_areas?: { x_local_authority?: string }[];
  attributes?: { taxonomy_term?: { code?: string } }[];
  x_capacity?: { available?: number };
}

function toService(s: HsdsService): Service | undefined {
  if (!s.x_service_id || !s.organization?.x_provider_id) return undefined;
  return {
    serviceId: s.x_service_id,
    name: s.name ?? s.x_service_id,
    providerId: s.organization.x_provider_id,
    providerName: s.organization.name ?? s.organization.x_provider_id,
    needs: (s.attributes ?? []).map((a) => a.taxonomy_term?.code).filter((c): c is string => Boolean(c)),
    areas: (s.service_areas ?? []).map((a) => a.x_local_authority).filter((c): c is string => Boolean(c)),
    status: s.status ?? 'active',
    ...(typeof s.x_capacity?.available === 'number' ? { available: s.x_capacity.available } : {}),
  };
}

export function App() {
  const [config, setConfig] = useState<RuntimeConfig | undefined>();
  const [session, setSession] = useState<Session | undefined>(() => storedSession());
  const [notice, setNotice] = useState<string | undefined>(() => takeNotice());
  const { path } = useLocation();

  useEffect(() => {
    void loadConfig().then((c) => {
      configureApi({ baseUrl: c.apiUrl });
      setConfig(c);
    });
  }, []);

  const signOut = useCallback((message?: string) => {
    storeSession(undefined);
    setSession(undefined);
    setNotice(message);
    navigate('/sign-in', { replace: true });
  }, []);

  // Set while rendering, not in an effect: the pages' own effects (which run first) already call the API.
  configureApi({ token: () => (config ? currentToken(config) : storedSession()?.token), onUnauthorized: () => signOut('Your sign-in has ended or is no longer accepted: sign in again.') });

  const signIn = useCallback((next: Session, to?: string) => {
    storeSession(next);
    setSession(next);
    setNotice(undefined);
    navigate(to && to !== '/' && !to.startsWith('/sign-in') ? to : homeOf(next.role), { replace: true });
  }, []);

  useEffect(() => {
    if (!config) return;
    if (!session && path !== '/sign-in') navigate(`/sign-in${path !== '/' ? `?next=${encodeURIComponent(path + location.search)}` : ''}`, { replace: true });
    else if (session && path === '/') navigate(homeOf(session.role), { replace: true });
  }, [config, session, path]);

  if (!config) return <Loading what="Wraparound" />;
  if (!session || path === '/sign-in') {
    return (
      <Shell>
        <SignInPage config={config} onSignIn={signIn} notice={notice} />
      </Shell>
    );
  }
  return <SignedIn config={config} session={session} signOut={signOut} path={path} />;
}

function Shell({ children, header }: { children: ReactNode; header?: ReactNode }) {
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to main content
      </a>
      <header className="site-header">
        <div className="site-header-inner">
          <Link to="/" className="brand">
            Wraparound
          </Link>
          {header}
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}

function SignedIn({ config, session, signOut, path }: { config: RuntimeConfig; session: Session; signOut: (m?: string) => void; path: string }) {
  const [services, setServices] = useState<Service[]>([]);
  const [clock, setClock] = useState<{ now: string; kind: AppState['clockKind'] }>({ now: new Date().toISOString(), kind: 'browser' });
  const [tick, setTick] = useState(0);

  useEffect(() => {
    everyDirectoryService<HsdsService>()
      .then((all) => setServices(all.map(toService).filter((s): s is Service => Boolean(s))))
      .catch(() => setServices([]));
  }, []);

  // The embedded stack may run a simulated clock: dates the app suggests and "overdue" follow it.
  useEffect(() => {
    if (config.auth !== 'embedded') return;
    api<{ now?: string; kind?: 'system' | 'simulated' }>('GET', '/_local/clock')
      .then((c) => c.now && setClock({ now: c.now, kind: c.kind ?? 'system' }))
      .catch(() => undefined);
  }, [config.auth, path, tick]);

  const app = useMemo<AppState>(
    () => ({
      config,
      session,
      now: clock.now,
      clockKind: clock.kind,
      refreshNow: () => setTick((t) => t + 1),
      signOut,
      services,
      providerName: (id: string) => services.find((s) => s.providerId === id)?.providerName ?? label(id),
    }),
    [config, session, clock, signOut, services],
  );

  const found = ROUTES.map((r) => ({ r, params: match(r.pattern, path) })).find((x) => x.params);
  let page: ReactNode;
  if (!found) page = <NotFound />;
  else if (!found.r.roles.includes(session.role)) page = <NotForRole roles={found.r.roles} />;
  else page = found.r.render(found.params as Record<string, string>);

  const header = (
    <>
      <nav aria-label="Main" className="site-nav">
        <ul>
          {NAV[session.role].map(([to, text]) => (
            <li key={to}>
              <Link to={to} {...(path === to || path.startsWith(`${to}/`) ? { 'aria-current': 'page' as const } : {})}>
                {text}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <div className="who">
        <span>
          {session.name} <span className="who-role">({label(session.role)})</span>
        </span>
        <button type="button" className="link-button" onClick={() => signOutEverywhere(config, signOut)}>
          Sign out
        </button>
      </div>
    </>
  );

  return (
    <AppContext.Provider value={app}>
      <Shell header={header}>
        {clock.kind === 'simulated' && (
          <p className="clock-banner">
            Simulated time: <time dateTime={clock.now}>{formatDateTime(clock.now)}</time>
          </p>
        )}
        {page}
      </Shell>
    </AppContext.Provider>
  );
}

/**
 * The person's own sign-out. With the hosted UI it revokes the refresh token and ends the hosted
 * UI's session as well (its /logout), so the next person at a shared computer meets the password
 * page, not this account;
 * the notice waits in session storage for the sign-in page the hosted UI sends them back to.
 */
function signOutEverywhere(config: RuntimeConfig, signOut: (message?: string) => void) {
  const message = 'You have signed out.';
  if (!config.hostedUi) {
    signOut(message);
    return;
  }
  const { hostedUi } = config;
  const refreshToken = storedSession()?.refreshToken;
  storeSession(undefined);
  keepNotice(message);
  void (refreshToken ? revokeRefreshToken(hostedUi, refreshToken) : Promise.resolve()).then(() => location.assign(signOutUrl(hostedUi)));
}

function NotFound() {
  return (
    <>
      <PageTitle>Page not found</PageTitle>
      <p>
        There is no page at this address. <Link to="/">Go to your start page</Link>.
      </p>
    </>
  );
}

function NotForRole({ roles }: { roles: readonly Role[] }) {
  return (
    <>
      <PageTitle>Not available to your role</PageTitle>
      <p>
        This page is for {roles.map((r) => label(r).toLowerCase()).join(' or ')} users. <Link to="/">Go to your start page</Link>.
      </p>
    </>
  );
}

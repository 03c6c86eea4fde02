import { useEffect, useState } from 'react';
import { ApiError, api } from '../api.ts';
import { label, ROLES, type Role } from '../domain.ts';
import { Form, SubmitButton, TextArea } from '../forms.tsx';
import { beginSignIn, completeSignIn, isSignInAnswer, SignInError } from '../hosted-ui.ts';
import { navigate, useLocation } from '../router.tsx';
import { sessionFromToken, type RuntimeConfig, type Session } from '../session.ts';
import type { DemoUser } from '../types.ts';
import { Loading, Notice, PageTitle } from '../ui.tsx';

const ROLE_HINT: Record<Role, string> = {
  coordinator: 'Referrals, assessments, allocation, reviews, exits and follow-ups',
  'team-lead': 'Escalations, the worklist, figures and provider webhooks',
  provider: 'Offers, caseload, contacts and the webhook delivery log',
  commissioner: 'Programme figures: aggregates only',
};

export function SignInPage({ config, onSignIn, notice }: { config: RuntimeConfig; onSignIn: (s: Session, next?: string) => void; notice?: string | undefined }) {
  const { search } = useLocation();
  const next = search.get('next') ?? undefined;
  return (
    <div className="narrow">
      <PageTitle>Sign in to Wraparound</PageTitle>
      {notice && <Notice tone="info">{notice}</Notice>}
      {config.auth === 'cognito' ? <HostedSignIn config={config} onSignIn={onSignIn} next={next} /> : <DemoSignIn onSignIn={onSignIn} next={next} />}
      <TokenSignIn onSignIn={onSignIn} next={next} />
    </div>
  );
}

function HostedSignIn({ config, onSignIn, next }: { config: RuntimeConfig; onSignIn: (s: Session, next?: string) => void; next: string | undefined }) {
  const { search } = useLocation();
  const [error, setError] = useState<string | undefined>();
  const [leaving, setLeaving] = useState(false);
  const { hostedUi } = config;
  const answer = isSignInAnswer(search);

  // Back from the hosted UI: swap the code for tokens, or say why not (and drop the used code from the address).
  useEffect(() => {
    if (!answer || !hostedUi) return;
    let current = true;
    completeSignIn(hostedUi, search)
      .then((tokens) => {
        const session = sessionFromToken(tokens.idToken);
        if ('error' in session) throw new SignInError(`You signed in, but your account ${session.error}. Ask your administrator to add you to a Wraparound group.`);
        if (current) onSignIn({ ...session, ...(tokens.refreshToken ? { refreshToken: tokens.refreshToken } : {}) }, tokens.next);
      })
      .catch((e: unknown) => {
        if (!current) return;
        setError(e instanceof SignInError ? e.message : 'Something went wrong while signing you in. Sign in again.');
        navigate('/sign-in', { replace: true });
      });
    return () => {
      current = false;
    };
  }, [answer, hostedUi, search, onSignIn]);

  if (answer && hostedUi && !error) return <Loading what="your account" />;
  const start = () => {
    if (!hostedUi) {
      setError('This deployment does not say where its sign-in service is (hostedUiDomain in config.json). Tell your administrator.');
      return;
    }
    setError(undefined);
    setLeaving(true);
    beginSignIn(hostedUi, next).catch(() => {
      setLeaving(false);
      setError('This browser could not start the sign-in (it needs the Web Crypto API, offered on https pages). Try another browser.');
    });
  };
  return (
    <section className="card" aria-labelledby="hosted-heading">
      <h2 id="hosted-heading">Your organisation account</h2>
      <p>You sign in on the Wraparound sign-in page with the email address and password your administrator set up, then come back here.</p>
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
      <button type="button" className="button primary" onClick={start} disabled={leaving}>
        Sign in
      </button>
    </section>
  );
}

function DemoSignIn({ onSignIn, next }: { onSignIn: (s: Session, next?: string) => void; next: string | undefined }) {
  const [users, setUsers] = useState<DemoUser[] | undefined>();
  const [error, setError] = useState<ApiError | undefined>();
  useEffect(() => {
    api<{ items: DemoUser[] }>('GET', '/_local/demo-users')
      .then((r) => setUsers(r.items))
      .catch((e: ApiError) => setError(e));
  }, []);
  const choose = (user: DemoUser) => {
    const session = sessionFromToken(user.token);
    if ('error' in session) setError(new ApiError(0, 'Error', `The demo token ${session.error}.`));
    else onSignIn({ ...session, name: user.name }, next);
  };
  return (
    <section className="card" aria-labelledby="demo-heading">
      <h2 id="demo-heading">Demo users</h2>
      <p>This is the embedded stack: choose who to be. Each demo user holds a token the stack signed when it started.</p>
      {error && (
        <p className="field-error" role="alert">
          Demo users are not available: {error.message}
        </p>
      )}
      {!users && !error && <Loading what="demo users" />}
      {users &&
        ROLES.map((role) => {
          const group = users.filter((u) => u.role === role);
          if (group.length === 0) return null;
          return (
            <div key={role} className="demo-group">
              <h3>{label(role)}</h3>
              <p className="hint">{ROLE_HINT[role]}</p>
              <ul className="button-list">
                {group.map((u) => (
                  <li key={`${u.role}-${u.providerId ?? ''}`}>
                    <button type="button" className="button secondary" onClick={() => choose(u)}>
                      Sign in as {u.name}
                    </button>
                  </li>
                ))}
              </ul>
            </div>
          );
        })}
    </section>
  );
}

function TokenSignIn({ onSignIn, next }: { onSignIn: (s: Session, next?: string) => void; next: string | undefined }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<ApiError | undefined>();
  const submit = () => {
    const session = sessionFromToken(token);
    if ('error' in session) setError(new ApiError(400, 'Bad request', 'The token cannot be used.', [{ path: 'token', message: session.error }]));
    else onSignIn(session, next);
  };
  return (
    <details className="card">
      <summary>Sign in with a token</summary>
      <Form onSubmit={submit} error={error} label="Sign in with a token">
        <TextArea path="token" label="Bearer token" hint="From `npm run wraparound -- token --role …`, or the stack's start-up output." value={token} onChange={setToken} rows={4} />
        <SubmitButton busy={false}>Sign in with this token</SubmitButton>
      </Form>
    </details>
  );
}

import { label, needLabel } from '../domain.ts';

/** A need as a coordinator's plan or a provider's allocation shows it (the provider's has no priority, and a level only under consent). */
export interface ShownNeed {
  domain: string;
  level?: string;
  priority?: boolean;
  status?: string;
  goals?: readonly string[];
}

/** The needs with their level, priority, whether closed, and goals: one list for the plan page and the allocation page. */
export function NeedList({ needs }: { needs: readonly ShownNeed[] }) {
  return (
    <ul className="needs-list">
      {needs.map((n) => (
        <li key={n.domain} className={n.status === 'closed' ? 'is-closed' : undefined}>
          <div className="need-head">
            <strong>{needLabel(n.domain)}</strong>
            {n.level && <span className={`badge level-${n.level}`}>{label(n.level)}</span>}
            {n.priority && <span className="badge priority">Priority</span>}
            {n.status === 'closed' && <span className="badge">Closed</span>}
          </div>
          {n.goals && n.goals.length > 0 && (
            <ul className="goals">
              {n.goals.map((g) => (
                <li key={g}>{g}</li>
              ))}
            </ul>
          )}
        </li>
      ))}
    </ul>
  );
}

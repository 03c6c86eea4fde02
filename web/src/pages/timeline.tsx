import type { ApiError } from '../api.ts';
import { formatDateTime } from '../format.ts';
import { describe, timelineEntries } from '../timeline-words.ts';
import type { Escalation, HistoryItem } from '../types.ts';
import { LoadError, Loading, Section, useApp } from '../ui.tsx';

// The words live in timeline-words.ts (no JSX, so the server's tsc reads its unit test); web-constants reads them from here.
export { describe };

/**
 * The plan's events, oldest first. An escalation repeated while nobody acts is one line, its dates
 * behind a disclosure (every event stays reachable), not hundreds of identical lines.
 */
export function Timeline({ items, error, onRetry, openEscalations }: { items: HistoryItem[] | undefined; error: ApiError | undefined; onRetry: () => void; openEscalations?: Escalation[] }) {
  const { providerName } = useApp();
  return (
    <Section title="Timeline" id="timeline">
      {error && <LoadError error={error} what="the timeline" onRetry={onRetry} />}
      {!items && !error && <Loading what="the timeline" />}
      {items && (
        <ol className="timeline">
          {timelineEntries(items, providerName, openEscalations).map((entry) =>
            entry.kind === 'event' ? (
              <li key={entry.item.id}>
                <time dateTime={entry.item.time}>{formatDateTime(entry.item.time)}</time>
                <div>
                  <strong>{entry.title}</strong>
                  {entry.detail && <p>{entry.detail}</p>}
                </div>
              </li>
            ) : (
              <li key={entry.items[0]!.id} className="timeline-repeated">
                <time dateTime={entry.items[0]!.time}>{formatDateTime(entry.items[0]!.time)}</time>
                <div>
                  <strong>{entry.title}</strong>
                  <p>{entry.detail}</p>
                  <details>
                    <summary>Every date ({entry.items.length})</summary>
                    <ol className="timeline-dates">
                      {entry.items.map((item) => (
                        <li key={item.id}>
                          <time dateTime={item.time}>{formatDateTime(item.time)}</time>
                        </li>
                      ))}
                    </ol>
                  </details>
                </div>
              </li>
            ),
          )}
        </ol>
      )}
    </Section>
  );
}

import type { ApiError } from '../api.ts';
import { formatDateTime } from '../format.ts';
import { describe } from '../timeline-words.ts';
import type { HistoryItem } from '../types.ts';
import { LoadError, Loading, Section, useApp } from '../ui.tsx';

// The words live in timeline-words.ts (no JSX, so the server's tsc reads its unit test); web-constants reads them from here.
export { describe };

export function Timeline({ items, error, onRetry }: { items: HistoryItem[] | undefined; error: ApiError | undefined; onRetry: () => void }) {
  const { providerName } = useApp();
  return (
    <Section title="Timeline" id="timeline">
      {error && <LoadError error={error} what="the timeline" onRetry={onRetry} />}
      {!items && !error && <Loading what="the timeline" />}
      {items && (
        <ol className="timeline">
          {items.map((item) => {
            const { title, detail } = describe(item, providerName);
            return (
              <li key={item.id}>
                <time dateTime={item.time}>{formatDateTime(item.time)}</time>
                <div>
                  <strong>{title}</strong>
                  {detail && <p>{detail}</p>}
                </div>
              </li>
            );
          })}
        </ol>
      )}
    </Section>
  );
}

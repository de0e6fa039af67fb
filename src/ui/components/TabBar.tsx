/** A row of tabs: one button per id, the current one marked. */
import type { ReactNode } from 'react';

export interface Tab {
  label: string;
  title: string;
}

export function TabBar<T extends string>({
  ids,
  tabs,
  current,
  onPick,
  testIdPrefix,
  suffix,
}: {
  ids: readonly T[];
  tabs: Record<T, Tab>;
  current: T;
  onPick: (id: T) => void;
  testIdPrefix: string;
  /** Extra content after a tab's label (e.g. " …" while it computes). */
  suffix?: (id: T) => ReactNode;
}) {
  return (
    <div className="tabs" role="tablist" aria-label="Views">
      {ids.map((id) => (
        <button
          key={id}
          type="button"
          role="tab"
          aria-selected={current === id}
          className={`tab${current === id ? ' active' : ''}`}
          data-testid={`${testIdPrefix}${id}`}
          title={tabs[id].title}
          onClick={() => onPick(id)}
        >
          {tabs[id].label}
          {suffix?.(id)}
        </button>
      ))}
    </div>
  );
}

/** A titled settings panel in the sidebar. */
import type { ReactNode } from 'react';

export function Panel({
  title,
  children,
  note,
  footer,
  testId,
}: {
  title: string;
  children: ReactNode;
  note?: ReactNode;
  footer?: ReactNode;
  testId?: string;
}) {
  return (
    <section className="panel" data-testid={testId}>
      <h2>{title}</h2>
      {note ? <div className="panel-note">{note}</div> : null}
      <div className="fields">{children}</div>
      {footer ? <div className="panel-note panel-footer">{footer}</div> : null}
    </section>
  );
}

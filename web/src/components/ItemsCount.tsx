// A loop's progress through its items, or a body step's across them: "37 / 100 items", and how many failed in red.

import type { ItemProgress } from '../api/types';
import { progressText } from '../run/progress';

export function ItemsCount({ items, testId }: { items: ItemProgress; testId?: string }) {
  const { text, failed, skipped, title } = progressText(items);
  return (
    <>
      <span className="items-count" title={title} data-testid={testId} data-done={items.done} data-total={items.total}>
        <span className="items-count__done">{text}</span>
        {failed && <span className="items-count__failed" data-testid={testId ? `${testId}-failed` : undefined}>{failed}</span>}
      </span>
      {/* A step after a branch ran in only some items: say how many it sat out, not only how many are done. */}
      {skipped && <span className="items-count__skipped" title={title} data-testid={testId ? `${testId}-skipped` : undefined}>{skipped}</span>}
    </>
  );
}

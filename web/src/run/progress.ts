// How a loop's items, or a body step's runs across them, read on a node and in the run panel (pure).

import type { ItemProgress } from '../api/types';

const count = new Intl.NumberFormat('en-US');

export interface ProgressText {
  /** `37 / 100 items`: items finished of all. */
  text: string;
  /** `2 failed` when any did (shown in red), else null. */
  failed: string | null;
  /** A body step: `3 skipped` when it was not reached in some items (a branch not taken), else null. */
  skipped: string | null;
  /** Every count, for a tooltip. */
  title: string;
}

export function progressText(items: ItemProgress): ProgressText {
  const { done, total, succeeded, failed, skipped, running } = items;
  const parts = [`${count.format(succeeded)} succeeded`];
  if (failed > 0) parts.push(`${count.format(failed)} failed`);
  if (skipped > 0) parts.push(`${count.format(skipped)} skipped (not reached in the item)`);
  if (running.length > 0) parts.push(`${count.format(running.length)} running`);
  return {
    text: `${count.format(done)} / ${count.format(total)} ${total === 1 ? 'item' : 'items'}`,
    failed: failed > 0 ? `${count.format(failed)} failed` : null,
    skipped: skipped > 0 ? `${count.format(skipped)} skipped` : null,
    title: parts.join(', '),
  };
}

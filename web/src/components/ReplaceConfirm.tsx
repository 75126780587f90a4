// The two questions saving and loading can raise: replace unsaved changes? and, when someone saved first, what now?

import { useServices, useWorkflows } from '../app/services';
import { ConfirmDialog } from './ConfirmDialog';

export function ReplaceConfirm() {
  const { workflows } = useServices();
  const pending = useWorkflows((s) => s.pendingReplace);
  const conflict = useWorkflows((s) => s.conflict);
  const base = useWorkflows((s) => s.binding?.version);
  const close = () => workflows.store.setState({ pendingReplace: null });

  if (conflict) {
    return (
      <ConfirmDialog
        title="Someone saved this workflow after you opened it"
        message={
          conflict.latest
            ? `Version ${conflict.latest} was saved (in another tab, or by someone else) after version ${base} you were editing. Nothing was overwritten, and your changes are not saved. Save yours as a new workflow, or load version ${conflict.latest} (your changes here are dropped).`
            : `${conflict.message}. Nothing was overwritten, and your changes are not saved.`
        }
        confirmLabel={conflict.latest ? `Load version ${conflict.latest}` : 'Load the latest'}
        testId="save-conflict"
        onCancel={() => workflows.store.setState({ conflict: null })}
        onConfirm={() => void workflows.reloadLatest()}
        alternative={{ label: 'Save mine as a copy', onChoose: () => void workflows.saveAsCopy() }}
      />
    );
  }
  if (!pending) return null;
  return (
    <ConfirmDialog
      title={pending.title}
      message="The canvas has changes that are not saved. They will be lost."
      confirmLabel="Discard changes"
      testId="confirm-replace"
      onCancel={close}
      onConfirm={() => {
        close();
        void pending.run();
      }}
    />
  );
}

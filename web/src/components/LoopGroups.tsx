// Each loop's body drawn as a tinted, labelled region behind its nodes (graph/loopGroups.ts says where). It is no
// node: React Flow moves the nodes freely and the saved graph is unchanged; the regions follow from where they are.

import { ViewportPortal } from '@xyflow/react';
import { useMemo } from 'react';
import { loopGroups } from '../graph/loopGroups';
import { LOOP_TYPE } from '../graph/loops';
import { useBuilder, useCatalogue } from '../store/hooks';

export function LoopGroups() {
  const nodes = useBuilder((s) => s.nodes);
  const edges = useBuilder((s) => s.edges);
  const accent = useCatalogue().get(LOOP_TYPE)?.ui.accent ?? '#7c3aed';
  const groups = useMemo(() => {
    const sizes = new Map(nodes.map((n) => [n.id, n.measured]));
    return loopGroups({ nodes, edges }, (id) => {
      const size = sizes.get(id);
      return size?.width && size.height ? { width: size.width, height: size.height } : undefined;
    });
  }, [nodes, edges]);
  if (groups.length === 0) return null;
  const labels = new Map(nodes.map((n) => [n.id, n.data.label]));
  return (
    <ViewportPortal>
      {groups.map((group) => (
        <div
          key={group.loopId}
          className="loop-group"
          style={{
            transform: `translate(${group.x}px, ${group.y}px)`,
            width: group.width,
            height: group.height,
            ['--accent' as string]: accent,
          }}
          data-testid={`loop-group-${group.loopId}`}
          data-depth={group.depth}
          aria-hidden="true"
        >
          <span className="loop-group__label">
            <span className="loop-group__glyph">↻</span> For each item of {labels.get(group.loopId) || group.loopId}
          </span>
        </div>
      ))}
    </ViewportPortal>
  );
}

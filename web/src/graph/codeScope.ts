// What a code step's function can read (pure): the run's payload and inputs, the output of every step it comes
// after, and, inside a loop's body, the item it runs for. These are JavaScript names, not {{ }} templates.

import type { GraphDocument } from './document';
import { enclosingLoops } from './loops';
import type { Catalogue } from './nodeTypes';
import { stepRef, upstreamSteps } from './variables';

export type CodeVariableGroup = 'Run' | 'Steps' | 'Loop';

export interface CodeVariable {
  group: CodeVariableGroup;
  /** As the code writes it: `steps.http_1.output`, `steps['my-id'].output`, `loop.item`. */
  expression: string;
  /** What it holds, in words. */
  detail: string;
}

export function codeVariables(doc: GraphDocument, catalogue: Catalogue, nodeId: string): CodeVariable[] {
  const out: CodeVariable[] = [
    { group: 'Run', expression: 'payload', detail: 'What the trigger received' },
    { group: 'Run', expression: 'inputs', detail: 'The run’s inputs' },
  ];
  for (const step of upstreamSteps(doc, catalogue, nodeId))
    out.push({ group: 'Steps', expression: `${stepRef(step.id)}.output`, detail: `${step.label}: its output` });
  const loops = enclosingLoops(doc, nodeId);
  const inner = loops.at(-1);
  if (inner !== undefined) {
    const name = doc.nodes.find((n) => n.id === inner)?.data.label || inner;
    out.push(
      { group: 'Loop', expression: 'loop.item', detail: `The item ${name} runs this step for` },
      { group: 'Loop', expression: 'loop.index', detail: 'The item’s position in the list, from 0' },
      {
        group: 'Loop',
        expression: 'loop.parent',
        detail: loops.length > 1 ? 'The enclosing loop’s {item, index, parent}' : 'null here: this loop is not inside another',
      },
    );
  }
  return out;
}

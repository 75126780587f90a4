"""merge: where branches join. It waits for its parents as its mode says, then one step goes on with their outputs.

Any other step with several parents waits for all of them and is skipped when one is skipped; a merge is how the
two branches of an If come back together."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .._base import Contract
from ._registry import REGISTRY, FieldUi, NodeType, NodeUi

MergeMode = Literal["wait_all", "append", "first"]


class MergeConfig(Contract):
    mode: MergeMode = Field(default="wait_all", description="wait_all: {parentId: output} of the parents that ran; "
                            "append: their outputs as a list, in edge order; first: the first parent to finish")


MERGE = REGISTRY.register(NodeType(
    order=57,
    type="merge", kind="logic", title="Merge", description="Join branches: go on once, with what reached it",
    config=MergeConfig,
    ui=NodeUi(
        glyph="⋈", accent="#0891b2", defaultLabel="Merge", summary="{mode}", idPrefix="merge",
        defaults={"mode": "wait_all"},
        outputFields={"<parent id>": "wait_all and first: each parent that ran, by id"},
        fields={"mode": FieldUi(
            widget="select", label="Mode",
            optionLabels={"wait_all": "Wait for every branch (by step id)", "append": "Wait for every branch (a list)",
                          "first": "Go on with the first to arrive"},
            help="Waiting, branches that were skipped (an If's other side) are not waited for.",
        )},
    ),
))

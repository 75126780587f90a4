"""Validation problems, each naming the field (and node or edge) it belongs to."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pydantic import ValidationError

from ._base import Contract

# Loc parts that pydantic adds for tagged unions; they are not fields a user can see.
_UNION_TAGS = {"builder", "template"}


class FieldIssue(Contract):
    field: str
    reason: str
    nodeId: str | None = None
    edgeId: str | None = None


MAX_ISSUES = 50


class WorkflowInvalid(ValueError):
    """A workflow that cannot run; `issues` says where and why."""

    def __init__(self, issues: Sequence[FieldIssue]) -> None:
        # One per problem, but not thousands: a graph with the same mistake in every node says so 50 times.
        self.issues = list(issues[:MAX_ISSUES])
        if len(issues) > MAX_ISSUES:
            self.issues.append(FieldIssue(field="graph", reason=f"and {len(issues) - MAX_ISSUES} more problems"))
        super().__init__("; ".join(f"{issue.field}: {issue.reason}" for issue in self.issues))


def field_path(loc: Iterable[int | str], prefix: str = "") -> str:
    """('graph', 'nodes', 1, 'data') -> 'graph.nodes[1].data'."""
    path = prefix
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part in _UNION_TAGS or part.startswith("function-"):
            continue
        else:
            path = f"{path}.{part}" if path else part
    return path


def issues_from_validation(error: ValidationError, prefix: str = "") -> list[FieldIssue]:
    issues = []
    for detail in error.errors(include_url=False, include_input=False):
        reason = detail["msg"].removeprefix("Value error, ")
        issues.append(FieldIssue(field=field_path(detail["loc"], prefix) or prefix or "body", reason=reason))
    return issues

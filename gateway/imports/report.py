"""The import report: what became of each source node, and why."""

from __future__ import annotations

from dataclasses import dataclass, field

from schemas.imports import ImportedFrom, ImportedNode, ImportReport, ImportStatus

_RANK: dict[ImportStatus, int] = {"converted": 0, "review": 1, "unsupported": 2}


@dataclass
class Entry:
    """One source node: its type and name, the graph node it became (None when dropped), status and notes."""

    type: str
    name: str
    id: str | None = None
    status: ImportStatus = "converted"
    notes: list[str] = field(default_factory=list)

    def note(self, text: str, status: ImportStatus | None = None) -> None:
        """Add a note; a status only ever gets worse (converted → review → unsupported)."""
        if text not in self.notes:
            self.notes.append(text)
        if status is not None and _RANK[status] > _RANK[self.status]:
            self.status = status

    def review(self, text: str) -> None:
        self.note(text, "review")


@dataclass
class Report:
    entries: list[Entry] = field(default_factory=list)

    def add(self, type_: str, name: str) -> Entry:
        entry = Entry(type=type_, name=name)
        self.entries.append(entry)
        return entry

    def build(self) -> ImportReport:
        nodes = [ImportedNode.model_validate({"id": e.id, "from": ImportedFrom(type=e.type, name=e.name),
                                              "status": e.status, "notes": e.notes})
                 for e in self.entries]
        return ImportReport(
            converted=sum(e.status == "converted" for e in self.entries),
            review=sum(e.status == "review" for e in self.entries),
            unsupported=sum(e.status == "unsupported" for e in self.entries),
            nodes=nodes,
        )

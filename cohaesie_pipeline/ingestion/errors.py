"""Errors a data engineer can act on: which file, which line, which column, what value, what was expected."""
from __future__ import annotations

from dataclasses import dataclass, field

EXAMPLES_PER_PROBLEM = 5
# Columns holding patient identifiers: their values never appear in a message, a log or event metadata (a
# BSN delivered by mistake least of all); the line number is enough to find the row.
IDENTIFIER_COLUMNS = frozenset({"patientnummer"})
WITHHELD = "(value withheld: patient identifier)"


@dataclass(frozen=True)
class FileProblem:
    file: str
    line: int | None
    column: str | None
    value: str | None
    problem: str  # completes the sentence: "<value> ..." e.g. "is not an amount (expected e.g. 82,50)"
    total: int = 1  # rows in the file with this same problem (this one being the first example)

    def __post_init__(self):
        if self.column in IDENTIFIER_COLUMNS and self.value is not None:
            object.__setattr__(self, "value", WITHHELD)

    def render(self) -> str:
        where = self.file
        if self.line is not None:
            where += f" line {self.line}"
        if self.column and self.value == WITHHELD:
            return f"{where}, column {self.column}: the value {self.problem} {WITHHELD}"
        if self.column and self.value is not None:
            return f"{where}, column {self.column}: '{self.value}' {self.problem}"
        if self.line is not None:
            return f"{where}: {self.problem}"
        return f"{where} {self.problem}"


@dataclass
class ValidationFailed(Exception):
    problems: list[FileProblem] = field(default_factory=list)
    context: str = ""

    def __post_init__(self):
        super().__init__(self.message)

    @property
    def message(self) -> str:
        lines = []
        if self.context:
            lines.append(self.context)
        groups: dict[tuple, list[FileProblem]] = {}
        for p in self.problems:
            groups.setdefault((p.file, p.column, p.problem), []).append(p)
        for (_file, column, _problem), items in groups.items():
            for p in items[:EXAMPLES_PER_PROBLEM]:
                lines.append(p.render())
            total = max(sum(p.total for p in items), len(items))
            if total > EXAMPLES_PER_PROBLEM or total > len(items):
                shown = min(len(items), EXAMPLES_PER_PROBLEM)
                lines.append(f"  ... {total - shown} more row(s) with the same problem in column {column} "
                             f"({total} in total)")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.message

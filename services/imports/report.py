"""What an import says it did: counts, and each refused row with its line, column and message."""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

# A file where every row fails would otherwise carry a report as big as itself.
MAX_REPORTED_ERRORS = 1000
CSV_COLUMNS = ("line", "column", "message")


@dataclass
class Problem:
    """One problem: ``line`` of the file (1 is the header row), the column as the file
    names it (None for the whole row or file), and what is wrong."""

    line: int | None
    column: str | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "column": self.column, "message": self.message}


@dataclass
class ImportReport:
    """Counts of rows by outcome, the refused rows' problems, and warnings (rows or columns
    skipped). ``written`` is false after a dry run or a refused atomic import: the counts
    then say what the import would have done."""

    resource: str
    key: str | None
    mode: str
    dry_run: bool
    atomic: bool
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    skipped: int = 0
    last_line: int = 0
    written: bool = False
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    errors_truncated: bool = False

    @property
    def processed(self) -> int:
        return self.created + self.updated + self.unchanged + self.failed

    def add_error(self, line: int | None, column: str | None, message: str) -> None:
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(Problem(line, column, message))
        else:
            self.errors_truncated = True

    def add_warning(self, line: int | None, column: str | None, message: str) -> None:
        if len(self.warnings) < MAX_REPORTED_ERRORS:
            self.warnings.append(Problem(line, column, message))

    def count(self, status: str) -> None:
        setattr(self, status, getattr(self, status) + 1)

    def as_dict(self) -> dict[str, Any]:
        return {
            "resource": self.resource,
            "key": self.key,
            "mode": self.mode,
            "dry_run": self.dry_run,
            "atomic": self.atomic,
            "written": self.written,
            "processed": self.processed,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "failed": self.failed,
            "skipped": self.skipped,
            "last_line": self.last_line,
            "errors": [problem.as_dict() for problem in self.errors],
            "errors_truncated": self.errors_truncated,
            "warnings": [problem.as_dict() for problem in self.warnings],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ImportReport":
        """A report saved by an interrupted import, to carry on counting where it stopped."""
        report = cls(
            resource=data["resource"],
            key=data["key"],
            mode=data["mode"],
            dry_run=data["dry_run"],
            atomic=data["atomic"],
        )
        for name in ("created", "updated", "unchanged", "failed", "skipped", "last_line"):
            setattr(report, name, data.get(name, 0))
        report.written = data.get("written", False)
        report.errors = [Problem(**problem) for problem in data.get("errors", [])]
        report.warnings = [Problem(**problem) for problem in data.get("warnings", [])]
        report.errors_truncated = data.get("errors_truncated", False)
        return report


def report_csv(report: ImportReport) -> Iterator[str]:
    """The report's errors then warnings as CSV lines: ``line,column,message,severity``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([*CSV_COLUMNS, "severity"])
    for severity, problems in (("error", report.errors), ("warning", report.warnings)):
        for problem in problems:
            writer.writerow([problem.line or "", problem.column or "", problem.message, severity])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()

"""What `leadsync check` prints: one line per check, passed or failed, each failure with its
fix; the same as JSON for machines."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Literal

Status = Literal["passed", "failed", "skipped", "fixed"]
_MARK = {"passed": "ok  ", "fixed": "ok  ", "failed": "FAIL", "skipped": "--  "}


@dataclass(frozen=True)
class Line:
    check: str
    status: Status
    detail: str
    fix: str = ""


@dataclass
class Report:
    lines: list[Line] = field(default_factory=list)
    marketo_calls: int = 0

    def add(self, check: str, status: Status, detail: str, fix: str = "") -> None:
        self.lines.append(Line(check, status, detail, fix))

    @property
    def passed(self) -> int:
        return sum(line.status in ("passed", "fixed") for line in self.lines)

    @property
    def failed(self) -> int:
        return sum(line.status == "failed" for line in self.lines)

    @property
    def ok(self) -> bool:
        return self.failed == 0

    def text(self) -> str:
        out: list[str] = []
        for line in self.lines:
            out.append(f"{_MARK[line.status]} {line.check}: {line.detail}")
            if line.fix and line.status == "failed":
                out.append(f"      fix: {line.fix}")
        out.append(
            f"check: passed={self.passed} failed={self.failed} marketo_calls={self.marketo_calls}"
        )
        return "\n".join(out)

    def json(self) -> str:
        return json.dumps(
            {
                "ok": self.ok,
                "passed": self.passed,
                "failed": self.failed,
                "marketo_calls": self.marketo_calls,
                "checks": [asdict(line) for line in self.lines],
            },
            indent=2,
        )

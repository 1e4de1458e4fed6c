"""`leadsync erase --file`: a file's addresses on the erasure queue, against moto."""

from __future__ import annotations

from pathlib import Path

import pytest

from leadsync.adapters.erasures import ErasureQueue
from leadsync.ops.cli import main

pytestmark = pytest.mark.integration
REGION = "us-east-1"


def test_a_file_of_addresses_is_queued_once_each_and_bad_lines_are_named_masked(
    tmp_path: Path, queues: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    url = queues["dlq"]  # any queue: the erasure queue is one like it
    path = tmp_path / "erasures.txt"
    path.write_text(
        "# requests from the privacy desk\n"
        "ann.erase@example.com\n"
        "BOB.erase@example.com \n"
        "ann.erase@example.com\n"
        "not an address\n"
        "mailto:carl.erase@example.com\n",
        encoding="utf-8",
    )

    args = ["erase", "--file", str(path), "--erasure-queue-url", url, "--region", REGION]
    assert main([*args, "--dry-run"]) == 1  # a bad line: said, and the exit code says so
    dry = capsys.readouterr().out
    assert "requests=3 queued=0 bad_lines=1 duplicates=1 dry_run=true" in dry
    assert ErasureQueue(url).receive(10, visibility_timeout=0).requests == []

    assert main(args) == 1
    out = capsys.readouterr().out
    assert out.strip().endswith("requests=3 queued=3 bad_lines=1 duplicates=1 dry_run=false")
    assert "line 5:" in out
    assert "erase@example.com" not in out  # masked, never in clear
    received = ErasureQueue(url).receive(10)
    assert sorted(r.email for r in received.requests) == [
        "ann.erase@example.com",
        "bob.erase@example.com",
        "carl.erase@example.com",
    ]
    assert received.bad == []

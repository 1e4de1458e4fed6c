"""The digest as the admin sees it: the mail SES accepted, rendered by Chromium, read back.

The digest function runs against moto with known failures in the state table and the
dead-letter queue; the HTML part SES accepted is rendered to PNG by headless Chromium and
read with tesseract: the causes and their counts must be on the picture, row by row.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from leadsync.adapters.dead_letters import ERROR_CODE, ERROR_MESSAGE, DeadLetters
from leadsync.adapters.state import StateStore
from leadsync.adapters.stats import DailyStats
from leadsync.models import Rejection, RejectionReason
from leadsync.sync.failures import ErrorEntry, from_rejection
from tests.support.digest import ZONE, accepted_mail, dead_letter_batch, invoke, verified_sender
from tests.support.lambda_context import FakeLambdaContext
from tests.support.records import refused_records

pytestmark = pytest.mark.e2e
WIDTH, HEIGHT = 1200, 1100
INSTALL = "`make browser` (run by `make test` and `make demo`) installs it with apt-get"

# (where, cause, count) the picture must show
EXPECTED = [
    ("error store", "rejected / missing_email", 7),
    ("error store", "rejected / invalid_email", 3),
    ("error store", "undeliverable / marketo_1003", 2),
    ("dead-letter queue", "HTTP 503", 4),
    ("dead-letter queue", "invalid_message", 1),
]


@pytest.fixture
def digest_env(monkeypatch: pytest.MonkeyPatch, state_table: str, queues: dict[str, str]) -> None:
    for name, value in {
        "STATE_TABLE": state_table,
        "CREDENTIALS_SECRET": "unused",
        "DEAD_LETTER_QUEUE_URL": queues["dlq"],
        "ADMIN_EMAIL": "admin@example.com",
        "SENDER_EMAIL": verified_sender(),
        "MARKETO_QUOTA_TIMEZONE": ZONE,
    }.items():
        monkeypatch.setenv(name, value)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: {INSTALL}")
    return path


def _seed(state_table: str, dlq: str) -> None:
    at = datetime.now(UTC) - timedelta(minutes=5)
    entries: list[ErrorEntry] = [
        from_rejection(Rejection(chat_id=f"M{i}", reason=RejectionReason.MISSING_EMAIL), at=at)
        for i in range(7)
    ]
    entries += [
        from_rejection(
            Rejection(chat_id=f"I{i}", reason=RejectionReason.INVALID_EMAIL, value="not-an-email"),
            at=at,
        )
        for i in range(3)
    ]
    entries += refused_records(2, "field value invalid", at)
    StateStore(state_table).record_errors(entries)
    letters = DeadLetters(dlq)
    for i in range(4):
        letters.send_batch(dead_letter_batch(f"run-{i}", "HTTP 503", "Service Unavailable"))
    letters.send("{broken", {ERROR_CODE: "invalid_message", ERROR_MESSAGE: "not JSON"})
    DailyStats(state_table, zone=ZONE).add({"chats_read": 250, "marketo_calls_hour_14": 12})


def _screenshot(page: Path, out: Path, profile: Path) -> None:
    done = subprocess.run(
        [
            _tool("chromium"),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--force-device-scale-factor=1",
            f"--user-data-dir={profile}",
            f"--window-size={WIDTH},{HEIGHT}",
            f"--screenshot={out}",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert out.exists(), done.stderr[-2000:]


def _ocr(image: Path) -> list[str]:
    done = subprocess.run(
        [_tool("tesseract"), str(image), "-", "--psm", "4"],
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    return [_words(line) for line in done.stdout.splitlines() if line.strip()]


def _words(text: str) -> str:
    """Lower case, every run of non-alphanumerics one space: `missing_email` → `missing email`."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.lower()).split())


@dataclass(frozen=True)
class Png:
    width: int
    height: int
    pixels: list[bytes]  # one row of RGB(A) bytes per line
    channels: int


def _read_png(path: Path) -> Png:
    """A minimal decoder (8-bit RGB/RGBA, not interlaced: what Chromium writes); the CRCs
    and zlib's checksum are verified, so a truncated or corrupt file fails."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    position, header, compressed = 8, b"", b""
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert zlib.crc32(kind + body) == crc, f"bad CRC in {kind!r}"
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            compressed += body
        elif kind == b"IEND":
            break
        position += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert (depth, interlace) == (8, 0), "not an 8-bit, non-interlaced PNG"
    assert colour in (2, 6), f"colour type {colour}: not RGB or RGBA"
    channels = 3 if colour == 2 else 4
    raw = zlib.decompress(compressed)
    stride = width * channels
    assert len(raw) == height * (stride + 1)
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        _unfilter(kind, line, previous, channels)
        rows.append(bytes(line))
        previous = line
    return Png(width, height, rows, channels)


def _unfilter(kind: int, line: bytearray, previous: bytearray, bpp: int) -> None:
    if kind == 0:
        return
    if kind == 2:
        line[:] = bytes((a + b) & 0xFF for a, b in zip(line, previous, strict=True))
        return
    for i in range(len(line)):
        left = line[i - bpp] if i >= bpp else 0
        up = previous[i]
        if kind == 1:
            line[i] = (line[i] + left) & 0xFF
        elif kind == 3:
            line[i] = (line[i] + ((left + up) >> 1)) & 0xFF
        elif kind == 4:
            corner = previous[i - bpp] if i >= bpp else 0
            estimate = left + up - corner
            pa, pb, pc = abs(estimate - left), abs(estimate - up), abs(estimate - corner)
            best = left if pa <= pb and pa <= pc else up if pb <= pc else corner
            line[i] = (line[i] + best) & 0xFF
        else:
            raise AssertionError(f"unknown PNG filter {kind}")


def _ink(png: Png) -> float:
    """The share of pixels that are not the page's white background."""
    dark = 0
    for row in png.pixels:
        for x in range(0, len(row), png.channels):
            if row[x] < 200 or row[x + 1] < 200 or row[x + 2] < 200:
                dark += 1
    return dark / (png.width * png.height)


def test_the_digest_mail_shows_its_causes_and_counts(
    moto_server: str,
    state_table: str,
    queues: dict[str, str],
    digest_env: None,
    lambda_context: FakeLambdaContext,
    tmp_path: Path,
) -> None:
    _tool("chromium")
    _tool("tesseract")
    _seed(state_table, queues["dlq"])
    summary = invoke(lambda_context)
    assert summary["sent"] is True
    page = tmp_path / "digest.html"
    page.write_text(accepted_mail(moto_server, summary["message_id"])["html"], encoding="utf-8")
    picture = tmp_path / "digest.png"
    _screenshot(page, picture, tmp_path / "chromium-profile")

    png = _read_png(picture)
    assert (png.width, png.height) == (WIDTH, HEIGHT)
    assert 0.01 < _ink(png) < 0.5, "the picture is blank, or nearly all ink"

    lines = _ocr(picture)
    for where, cause, count in EXPECTED:
        row = _words(f"{where} {cause} {count}")
        assert any(row in line for line in lines), f"{row!r} not on the picture: {lines}"
    assert any(_words("Failures by cause") in line for line in lines), lines
    assert any(_words("Chats read 250") in line for line in lines), lines

from __future__ import annotations

import pytest

from leadsync.runtime.observability import mask_email, mask_ip, mask_name


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("jane.doe@example.com", "j***@e***.com"),
        ("a@b", "a***@b***"),
        ("not-an-email", "n***"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_email(raw: str | None, masked: str) -> None:
    assert mask_email(raw) == masked


def test_mask_name_and_ip() -> None:
    assert mask_name("Jane Maria Doe") == "J*** M*** D***"
    assert mask_name(None) == ""
    assert mask_ip("203.0.113.77") == "203.0.113.0/24"
    assert mask_ip("2001:db8:1:2::1") == "2001:db8:1::/48"
    assert mask_ip("garbage") == "***"
    assert mask_ip("") == ""

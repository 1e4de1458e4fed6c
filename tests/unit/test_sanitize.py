from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadsync.mapping.sanitize import (
    MAX_TEXT_LENGTH,
    clean_field,
    clean_text,
    clean_url,
    normalize_email,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Jane  ", "Jane"),
        ("ctrl\x00chars\x07here\x1b[31m\r\n", "ctrlcharshere"),
        ("\u202eevil-rtl-override\u202c", "evil-rtl-override"),
        ("zero\u200bwidth\ufeff", "zerowidth"),
        ("line\none\ttwo", "line one two"),
        ("<script>alert('x')</script>", "<script>alert('x')</script>"),
        ("Zoë Ångström", "Zoë Ångström"),
        ("", None),
        ("   \x00 ", None),
        (None, None),
        (True, None),
        (["a"], None),
        ({"a": 1}, None),
        (5550100, "5550100"),
    ],
)
def test_clean_text(raw: object, expected: str | None) -> None:
    assert clean_text(raw) == expected


def test_clean_text_caps_length() -> None:
    assert clean_text("A" * 10_240) == "A" * MAX_TEXT_LENGTH
    assert clean_text("abc def", max_length=4) == "abc"


@given(st.text())
def test_clean_text_output_is_bounded_single_line_and_visible(raw: str) -> None:
    text = clean_text(raw)
    if text is not None:
        assert 0 < len(text) <= MAX_TEXT_LENGTH
        assert text == text.strip()
        assert not any(ord(char) < 32 or ord(char) == 127 for char in text)
        assert "\u202e" not in text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("jane.doe@example.com", "jane.doe@example.com"),
        ("  JANE.DOE@Example.COM \t", "jane.doe@example.com"),
        ("o'brien+tag@mail.example.net", "o'brien+tag@mail.example.net"),
        ("not-an-email", None),
        ("a@", None),
        ("@example.com", None),
        ("john smith@example.com", None),
        ("x@y", None),
        ("a..b@example.com", None),
        (".a@example.com", None),
        ("a@-example.com", None),
        ("<script>@example.com", None),
        ("", None),
        (None, None),
        (42, None),
        ("a" * 65 + "@example.com", None),
        ("a@" + "b" * 250 + ".com", None),
    ],
)
def test_normalize_email(raw: object, expected: str | None) -> None:
    assert normalize_email(raw) == expected


@given(st.text(max_size=300))
def test_normalized_email_is_short_lowercase_and_stable(raw: str) -> None:
    email = normalize_email(raw)
    if email is not None:
        assert len(email) <= 254
        assert email == email.lower() == email.strip()
        assert normalize_email(email) == email


@given(st.text(max_size=2_000))
def test_field_text_is_bounded_markup_free_and_stable(raw: str) -> None:
    text = clean_field(raw)
    if text is not None:
        assert 0 < len(text) <= MAX_TEXT_LENGTH
        assert "<" not in text
        assert ">" not in text
        assert not any(ord(char) < 32 or ord(char) == 127 for char in text)
        assert clean_field(text) == text


@given(st.text(max_size=600))
def test_urls_are_bounded_http_and_stable(raw: str) -> None:
    for candidate in (raw, "https://example.com/" + raw):
        url = clean_url(candidate)
        if url is not None:
            assert len(url) <= MAX_TEXT_LENGTH
            assert url.lower().startswith(("http://", "https://"))
            assert not any(char in url for char in " \"'<>`")
            assert clean_url(url) == url

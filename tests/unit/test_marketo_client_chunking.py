"""Pure splitting: no call over the count or byte limit, every input exactly once, order kept."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from leadsync.marketo.chunking import (
    FILTER_SEPARATOR,
    JsonArrayBody,
    encode_json,
    lookup_value_size,
    pack,
    query_string,
)

sizes_st = st.lists(st.integers(min_value=0, max_value=400), max_size=200)


@given(
    sizes=sizes_st,
    max_items=st.integers(min_value=1, max_value=20),
    max_bytes=st.integers(min_value=1, max_value=1500),
    overhead=st.integers(min_value=0, max_value=100),
    separator=st.integers(min_value=0, max_value=3),
)
def test_pack_respects_limits_and_keeps_every_input_once_in_order(
    sizes: list[int], max_items: int, max_bytes: int, overhead: int, separator: int
) -> None:
    packing = pack(
        sizes, max_items=max_items, max_bytes=max_bytes, overhead=overhead, separator=separator
    )
    flat = [i for chunk in packing.chunks for i in chunk]
    assert flat == sorted(flat)  # order inside and across calls
    assert sorted(flat + packing.oversized) == list(range(len(sizes)))  # each exactly once
    for chunk in packing.chunks:
        assert 1 <= len(chunk) <= max_items
        used = overhead + sum(sizes[i] for i in chunk) + separator * (len(chunk) - 1)
        assert used <= max_bytes
    # only what can never fit is set apart
    assert packing.oversized == [i for i, s in enumerate(sizes) if overhead + s > max_bytes]


@given(sizes=st.lists(st.integers(min_value=1, max_value=10), min_size=1, max_size=100))
def test_pack_is_greedy(sizes: list[int]) -> None:
    # a call is closed only because the next input would not fit
    packing = pack(sizes, max_items=7, max_bytes=40, overhead=5)
    for chunk, following in zip(packing.chunks, packing.chunks[1:], strict=False):
        nxt = following[0]
        used = 5 + sum(sizes[i] for i in chunk) + len(chunk) - 1
        assert len(chunk) == 7 or used + 1 + sizes[nxt] > 40


def test_count_limit_alone() -> None:
    assert pack([1] * 650, max_items=300, max_bytes=10**9).chunks == [
        list(range(300)),
        list(range(300, 600)),
        list(range(600, 650)),
    ]
    assert pack([], max_items=3, max_bytes=10) == pack([], max_items=1, max_bytes=1)


records_st = st.lists(
    st.dictionaries(
        st.sampled_from(["email", "firstName", "city", "livechatTags"]),
        st.text(max_size=60),
        max_size=4,
    ),
    max_size=30,
)


@given(records=records_st, action=st.sampled_from(["createOnly", "updateOnly"]))
def test_json_array_body_size_is_exact(records: list[dict[str, str]], action: str) -> None:
    body = JsonArrayBody({"action": action, "lookupField": "email"})
    items = [encode_json(r) for r in records]
    built = body.build(items)
    assert len(built) == body.overhead + sum(map(len, items)) + max(0, len(items) - 1)
    assert json.loads(built) == {"action": action, "lookupField": "email", "input": records}
    assert json.loads(JsonArrayBody({}).build(items)) == {"input": records}


@given(values=st.lists(st.emails(), min_size=1, max_size=40))
def test_lookup_value_sizes_add_up_to_the_encoded_query(values: list[str]) -> None:
    base = query_string({"filterType": "email", "fields": "email,city", "filterValues": ""})
    full = query_string(
        {"filterType": "email", "fields": "email,city", "filterValues": ",".join(values)}
    )
    expected = (
        len(base) + sum(map(lookup_value_size, values)) + FILTER_SEPARATOR * (len(values) - 1)
    )
    assert len(full) == expected

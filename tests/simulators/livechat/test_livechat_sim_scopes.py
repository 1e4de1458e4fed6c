"""LiveChat's rules for implied scopes, and the archive scope they now decide."""

from __future__ import annotations

import pytest
import requests

from local.simulators.livechat import (
    DEFAULT_SCOPES,
    FULL_SCOPES,
    GenerationParams,
    LiveChatSimulator,
)
from local.simulators.livechat.errors import ApiError
from local.simulators.livechat.scopes import holds, implies, require


@pytest.mark.parametrize(
    ("granted", "needed"),
    [
        ("webhooks.state:rw", "webhooks.state:ro"),
        ("webhooks.configuration:rw", "webhooks.configuration:rw"),
        ("chats--all:ro", "chats--access:ro"),
        ("chats--all:rw", "chats--my:ro"),
        ("chats--access:rw", "chats--my:ro"),
        ("properties.license.value--all:rw", "properties.license.value--all:ro"),
        ("properties.license.value--all:ro", "properties.license.value--my:ro"),
        ("accounts--all:rc", "accounts--all:ro"),
    ],
)
def test_implied(granted: str, needed: str) -> None:
    assert implies(granted, needed)


@pytest.mark.parametrize(
    ("granted", "needed"),
    [
        ("webhooks.state:ro", "webhooks.state:rw"),
        ("webhooks--all:rw", "webhooks.configuration:rw"),
        ("webhooks--my:rw", "webhooks.configuration:rw"),
        ("chats--my:ro", "chats--access:ro"),
        ("chats--access:ro", "chats--all:ro"),
        ("chats--all:ro", "chats--all:rw"),
        ("properties.license.value--my:ro", "properties.license.value--all:ro"),
        ("canned_responses--groups:ro", "canned_responses--all:ro"),
        ("accounts--all:ro", "accounts--all:rc"),
    ],
)
def test_not_implied(granted: str, needed: str) -> None:
    assert not implies(granted, needed)


def test_full_scopes_cover_every_simulated_method() -> None:
    assert set(DEFAULT_SCOPES) == {"chats--all:ro"}
    for needed in [
        "chats--all:ro",
        "webhooks.configuration:rw",
        "webhooks.state:ro",
        "webhooks.state:rw",
        "properties.license.value--all:ro",
    ]:
        assert holds(FULL_SCOPES, needed), needed


def test_require_names_what_is_missing() -> None:
    require(["chats--all:rw"], "chats--all:ro", "chats--access:ro")
    with pytest.raises(ApiError) as caught:
        require(["chats--my:ro"], "chats--all:ro", "chats--access:ro")
    assert caught.value.type == "authorization"
    assert caught.value.status == 403
    assert caught.value.message == "Missing scope: chats--all:ro or chats--access:ro"


@pytest.mark.parametrize(
    ("scopes", "status"),
    [(("chats--all:rw",), 200), (("chats--access:ro",), 200), (("chats--my:ro",), 403)],
)
def test_archives_follow_the_same_rules(scopes: tuple[str, ...], status: int) -> None:
    with LiveChatSimulator(GenerationParams(seed=1, chats=2), scopes=scopes) as sim:
        answer = requests.post(
            f"{sim.api_url}/list_archives",
            json={},
            headers={"Authorization": sim.authorization},
            timeout=5,
        )
    assert answer.status_code == status

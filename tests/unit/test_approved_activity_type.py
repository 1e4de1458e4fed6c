"""The approved activity type's id: asked of Marketo by the first copy, kept for the others;
a type not approved yet is asked again only after a while."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from leadsync.marketo.activities import ActivitiesApi, ActivityType, ApprovedType


@dataclass
class Api:
    status: str = "approved"
    asked: int = 0

    def custom_types(self) -> list[ActivityType]:
        self.asked += 1
        return [ActivityType(id=7, apiName="livechatChat", status=self.status)]


@dataclass
class Kept:
    ids: dict[str, int] = field(default_factory=dict)

    def get(self, api_name: str) -> int | None:
        return self.ids.get(api_name)

    def put(self, api_name: str, type_id: int) -> None:
        self.ids[api_name] = type_id


def _approved(api: Api, kept: Kept, clock: list[float]) -> ApprovedType:
    return ApprovedType(
        cast(ActivitiesApi, api), "livechatChat", kept=kept, monotonic=lambda: clock[0]
    )


def test_the_first_copy_asks_marketo_and_the_others_read_the_kept_id() -> None:
    api, kept, clock = Api(), Kept(), [0.0]
    assert _approved(api, kept, clock)() == 7
    assert [_approved(api, kept, clock)() for _ in range(3)] == [7, 7, 7]
    assert api.asked == 1
    assert kept.ids == {"livechatChat": 7}


def test_a_type_in_draft_is_asked_again_after_a_while_not_at_every_message() -> None:
    api, kept, clock = Api(status="draft"), Kept(), [0.0]
    approved = _approved(api, kept, clock)
    assert [approved(), approved()] == [None, None]
    assert api.asked == 1
    api.status = "approved"
    clock[0] += 301
    assert approved() == 7
    assert api.asked == 2
    assert cast(Any, kept).ids == {"livechatChat": 7}

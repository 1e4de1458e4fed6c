"""The skeleton of a dataset: times, visitors, ids and counters for every chat, in one pass."""

from __future__ import annotations

import gc
import random
from collections.abc import Sequence
from dataclasses import dataclass

from local.simulators.livechat import vocab
from local.simulators.livechat.params import GenerationParams
from local.simulators.livechat.timefmt import to_micros

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_ID_SPACE = 36**10
# Odd and not a multiple of 3: coprime with 36**10, so index -> id is a bijection (unique ids).
_CHAT_MUL = 1_125_899_906_842_597
_THREAD_MUL = 2_305_843_009_213_693_951 % _ID_SPACE
MAX_THREADS = 4
SECOND = 1_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE


def pick[T](rnd: random.Random, items: Sequence[T]) -> T:
    return items[int(rnd.random() * len(items))]


def between(rnd: random.Random, low: int, high: int) -> int:
    return low + int(rnd.random() * (high - low))


_PAIRS = tuple(a + b for a in _ALPHABET for b in _ALPHABET)


def _base36(number: int) -> str:
    """Ten base-36 digits, two at a time."""
    parts = []
    for _ in range(5):
        number, pair = divmod(number, 1296)
        parts.append(_PAIRS[pair])
    return "".join(reversed(parts))


@dataclass(frozen=True, slots=True)
class Person:
    """A visitor as every one of their chats shows them."""

    serial: int
    customer_id: str
    name: str | None
    email_kind: str  # profile | form | messy | invalid | none
    email: str  # the valid address behind the kinds that have one, else ""
    profile_email: str | None  # what users[].email holds; None: key absent
    geo: tuple[tuple[str, str], ...] | None
    phone: str | None
    created_at: int
    hostile: bool


@dataclass(frozen=True, slots=True)
class ChatPlan:
    """The skeleton of one chat: enough to index it without building its body."""

    index: int
    serial: int  # ids derive from it; built on demand, they cost more than the rest of a plan
    thread_starts: tuple[int, ...]  # microseconds since the epoch
    person: Person
    counters: tuple[int, int, int]  # the customer's chats, threads, visits including this one
    agent: int
    active: bool
    huge: bool

    @property
    def chat_id(self) -> str:
        return _base36((self.serial * _CHAT_MUL) % _ID_SPACE)

    @property
    def thread_ids(self) -> tuple[str, ...]:
        base = self.serial * MAX_THREADS
        return tuple(
            _base36(((base + k) * _THREAD_MUL + 7) % _ID_SPACE)
            for k in range(len(self.thread_starts))
        )


def plan(p: GenerationParams) -> list[ChatPlan]:
    rnd = random.Random(p.seed)
    start, end = to_micros(p.start), to_micros(p.end)
    firsts = sorted(between(rnd, start, end) for _ in range(p.chats))
    people: list[Person] = []
    emailed: list[Person] = []
    counts: list[list[int]] = []
    plans: list[ChatPlan] = []
    offset = rnd.getrandbits(48)
    was_enabled = gc.isenabled()
    gc.disable()  # many small long-lived objects: collections would only slow this down
    try:
        for index, first in enumerate(firsts):
            if people and rnd.random() < p.returning:
                person = pick(rnd, people)
            else:
                person = _person(rnd, p, len(people), first, emailed)
                people.append(person)
                counts.append([0, 0, 0])
                if person.email:
                    emailed.append(person)
            threads = between(rnd, 2, MAX_THREADS + 1) if rnd.random() < p.multi_thread else 1
            starts = [first]
            for _ in range(threads - 1):
                later = starts[-1] + between(rnd, 10 * MINUTE, 72 * HOUR)
                if later < end:  # the window bounds every thread, so a late chat has fewer
                    starts.append(later)
            threads = len(starts)
            tally = counts[person.serial]
            tally[0] += 1
            tally[1] += threads
            tally[2] += 1
            plans.append(
                ChatPlan(
                    index=index,
                    serial=index + offset,
                    thread_starts=tuple(starts),
                    person=person,
                    counters=(tally[0], tally[1], tally[2]),
                    agent=int(rnd.random() * p.agents),
                    active=rnd.random() < p.active,
                    huge=rnd.random() < p.huge_value,
                )
            )
    finally:
        if was_enabled:
            gc.enable()
    return plans


def _person(
    rnd: random.Random, p: GenerationParams, serial: int, at: int, emailed: list[Person]
) -> Person:
    hostile = rnd.random() < p.hostile
    first, last = pick(rnd, vocab.FIRST_NAMES), pick(rnd, vocab.LAST_NAMES)
    name: str | None = f"{first} {last}"
    if hostile:
        name = pick(rnd, vocab.HOSTILE_STRINGS)
    elif rnd.random() < p.unicode_name:
        name = pick(rnd, vocab.UNICODE_NAMES)
    elif rnd.random() < 0.05:
        name = pick(rnd, (None, "", "Customer"))
    kind, email, profile = _email(rnd, p, first, last, serial, emailed)
    bits = f"{rnd.getrandbits(128):032x}"
    return Person(
        serial=serial,
        customer_id=f"{bits[:8]}-{bits[8:12]}-4{bits[13:16]}-a{bits[17:20]}-{bits[20:]}",
        name=name,
        email_kind=kind,
        email=email,
        profile_email=profile,
        geo=_geolocation(rnd, p),
        phone=f"+1 555 01{serial % 100:02d}" if rnd.random() < 0.3 else None,
        created_at=at - between(rnd, 0, 30 * MINUTE),
        hostile=hostile,
    )


def _email(
    rnd: random.Random,
    p: GenerationParams,
    first: str,
    last: str,
    serial: int,
    emailed: list[Person],
) -> tuple[str, str, str | None]:
    if emailed and rnd.random() < p.same_email_new_device:
        known = pick(rnd, emailed)
        return known.email_kind, known.email, known.profile_email
    local = f"{first}.{last}".lower().encode("ascii", "ignore").decode()
    email = f"{local}.{serial}@{pick(rnd, vocab.EMAIL_DOMAINS)}"
    roll = rnd.random()
    for kind, share in (
        ("profile", p.email_profile),
        ("form", p.email_form_only),
        ("messy", p.email_messy),
    ):
        if roll < share:
            profile = {
                "profile": email,
                "form": pick(rnd, (None, "")),
                "messy": f"  {email.upper()} \t",
            }[kind]
            return kind, email, profile
        roll -= share
    if roll < p.email_invalid:
        return "invalid", "", pick(rnd, vocab.INVALID_EMAILS)
    return "none", "", None


def _geolocation(rnd: random.Random, p: GenerationParams) -> tuple[tuple[str, str], ...] | None:
    roll = rnd.random()
    if roll >= p.geo_full + p.geo_partial:
        return None
    keys = ("country", "country_code", "region", "city", "timezone", "latitude", "longitude")
    geo = dict(zip(keys, pick(rnd, vocab.PLACES), strict=True))
    if roll >= p.geo_full:
        for key in rnd.sample(keys, between(rnd, 1, 5)):
            if rnd.random() < 0.5:
                del geo[key]
            else:
                geo[key] = ""
    return tuple(geo.items())

"""What the simulated partners remember, in memory: gone when the simulator stops.

Progress (an application decided, a document ready, an advice issued) is not stored but
read off the simulated clock each time it is asked for, so moving the clock moves it.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from partners.clock import SimClock
from partners.config import SimulatorConfig
from partners.faults import FaultInjector
from partners.people import Population, made_up_bsns

LOCAL_TIME = ZoneInfo("Europe/Amsterdam")


def share(seed: int, *parts: str) -> float:
    """A number in [0, 1) fixed by the seed and the parts: the same answer every time."""
    digest = hashlib.sha256(":".join((str(seed), *parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


# ---------------------------------------------------------------------------
# The justice message box


class CursorError(ValueError):
    pass


def encode_cursor(sequence: int) -> str:
    return base64.urlsafe_b64encode(f"rib:{sequence}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, number = text.split(":")
        if prefix != "rib":
            raise ValueError(prefix)
        return int(number)
    except ValueError as err:
        raise CursorError("not a cursor of this message box") from err


@dataclass(frozen=True)
class StoredMessage:
    id: str
    sequence: int
    type: str
    sent_at: datetime
    content: str  # a JSON document, as the sender wrote it


class MessageBox:
    """Messages in the order they arrived; a message posted twice under one id is kept once."""

    def __init__(self) -> None:
        self.messages: list[StoredMessage] = []
        self._by_id: dict[str, StoredMessage] = {}
        self._waiting: set[asyncio.Event] = set()

    def post(
        self, *, type_: str, content: str, sent_at: datetime, id_: str | None = None
    ) -> tuple[StoredMessage, bool]:
        if id_ is not None and id_ in self._by_id:
            return self._by_id[id_], False
        sequence = len(self.messages) + 1
        message = StoredMessage(id_ or f"RIB-{sent_at:%Y}-{sequence:07d}", sequence, type_, sent_at, content)
        self.messages.append(message)
        self._by_id[message.id] = message
        for event in self._waiting:
            event.set()
        return message, True

    def has(self, id_: str) -> bool:
        return id_ in self._by_id

    def after(self, sequence: int, limit: int) -> list[StoredMessage]:
        return self.messages[sequence : sequence + limit]

    async def wait_after(self, sequence: int, seconds: float) -> None:
        """Returns when a message after ``sequence`` is there, or after ``seconds``."""
        if len(self.messages) > sequence or seconds <= 0:
            return
        event = asyncio.Event()
        self._waiting.add(event)
        try:
            await asyncio.wait_for(event.wait(), seconds)
        except TimeoutError:
            pass
        finally:
            self._waiting.discard(event)


def spoil_content(content: str, roll: float) -> str:
    """Content a reader cannot understand: cut off, or without a field it needs."""
    try:
        data = json.loads(content)
    except ValueError:
        data = None
    if roll < 0.5 or not isinstance(data, dict):
        return content[: max(1, len(content) // 2)]
    if data:
        data.pop("detention_id" if "detention_id" in data else next(iter(data)))
    return json.dumps(data)


# ---------------------------------------------------------------------------
# The income system


@dataclass
class Application:
    id: str
    reference: str
    bsn: str
    municipality: str
    benefit: str
    submitted_at: datetime
    refused: bool


class IncomeOffice:
    def __init__(self) -> None:
        self.applications: dict[str, Application] = {}
        self._by_reference: dict[str, Application] = {}
        self._numbers = itertools.count(1)

    def submit(self, *, reference: str, now: datetime, refused: bool, **fields: Any) -> tuple[Application, bool]:
        if reference in self._by_reference:
            return self._by_reference[reference], False
        application = Application(
            id=f"INK-{now:%Y}-{next(self._numbers):06d}",
            reference=reference,
            submitted_at=now,
            refused=refused,
            **fields,
        )
        self.applications[application.id] = application
        self._by_reference[reference] = application
        return application, True


# ---------------------------------------------------------------------------
# Civil affairs


@dataclass
class Appointment:
    id: str
    reference: str
    bsn: str
    municipality: str
    document: str
    starts_at: datetime


def next_slot(after: datetime, roll: float) -> datetime:
    """A slot on a working day, between 09:00 and 16:00 local time, at or after ``after``."""
    day = after.astimezone(LOCAL_TIME).date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    minutes = 9 * 60 + 20 * int(roll * 21)  # every 20 minutes from 09:00 to 15:40
    return datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=LOCAL_TIME)


class CivilAffairsOffice:
    def __init__(self) -> None:
        self.appointments: dict[str, Appointment] = {}
        self._by_reference: dict[str, Appointment] = {}
        self._numbers = itertools.count(1)

    def book(self, *, reference: str, now: datetime, starts_at: datetime, **fields: Any) -> tuple[Appointment, bool]:
        if reference in self._by_reference:
            return self._by_reference[reference], False
        appointment = Appointment(
            id=f"AFS-{now:%Y}-{next(self._numbers):06d}", reference=reference, starts_at=starts_at, **fields
        )
        self.appointments[appointment.id] = appointment
        self._by_reference[reference] = appointment
        return appointment, True


# ---------------------------------------------------------------------------
# Probation, notifications, mail


@dataclass
class ProbationOffice:
    first_asked: dict[str, datetime] = field(default_factory=dict)
    # BIJ notices whose advice to the mayor was asked for, and when first.
    mayoral_first_asked: dict[str, datetime] = field(default_factory=dict)


@dataclass
class ReceivedMail:
    mail_from: str
    to: list[str]
    subject: str
    message_id: str | None
    body: str
    received_at: datetime


class Simulation:
    """Everything the simulated partners share: configuration, clock, faults and memory."""

    def __init__(self, config: SimulatorConfig | None = None, clock: SimClock | None = None) -> None:
        self.config = config or SimulatorConfig()
        self.clock = clock or SimClock()
        self.faults = FaultInjector(self.config.faults, seed=self.config.seed, clock=self.clock)
        self.population = Population(self.config.seed)
        self.message_box = MessageBox()
        self.income = IncomeOffice()
        self.civil_affairs = CivilAffairsOffice()
        self.probation = ProbationOffice()
        self.notifications: list[dict[str, Any]] = []
        self.mail: list[ReceivedMail] = []
        # Residents of generated demo messages, apart from those of `reentry seed` (900,000,000 on).
        self.demo_bsns = made_up_bsns(950_000_000)
        self.demo_detentions = itertools.count(1)

    @property
    def seed(self) -> int:
        return self.config.seed

    def today(self) -> date:
        return self.clock.now().astimezone(LOCAL_TIME).date()

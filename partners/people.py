"""Made-up residents, the same every run.

Every BSN that passes the 11-check belongs to a made-up person, derived from the number
and the seed: name, birth date, municipality of registration and address. So the
residents of ``reentry seed`` and of the tests are found in the population register
without a list. About four in five live in the five largest municipalities of North
Brabant, some elsewhere in the country, and some have no known address (registered
in the RNI, as often after a long stay in detention). Tests and demos move a person
with ``POST /_sim/population/registrations``.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from stdnum.nl import bsn as stdnum_bsn


@dataclass(frozen=True)
class Municipality:
    code: str
    name: str
    postcodes: tuple[int, int]


MUNICIPALITIES = {
    m.code: m
    for m in [
        Municipality("0855", "Tilburg", (5011, 5049)),
        Municipality("0772", "Eindhoven", (5611, 5658)),
        Municipality("0758", "Breda", (4811, 4839)),
        Municipality("0796", "'s-Hertogenbosch", (5211, 5236)),
        Municipality("0794", "Helmond", (5701, 5709)),
        Municipality("0363", "Amsterdam", (1011, 1109)),
        Municipality("0599", "Rotterdam", (3011, 3089)),
        Municipality("0344", "Utrecht", (3511, 3585)),
    ]
}
NORTH_BRABANT = ["0855", "0772", "0758", "0796", "0794"]
ELSEWHERE = ["0363", "0599", "0344"]
RNI = Municipality("1999", "Registratie Niet Ingezetenen (RNI)", (0, 0))

GIVEN_NAMES_M = ["Jan", "Kevin", "Mohamed", "Peter", "Dennis", "Rachid", "Mehmet", "Stefan", "Ricardo", "Bas"]
GIVEN_NAMES_V = ["Fatima", "Sanne", "Priya", "Anouk", "Naima", "Kim", "Esra", "Linda", "Chantal", "Iris"]
SURNAMES = [
    (None, "Jansen"),
    (None, "El Amrani"),
    ("de", "Vries"),
    (None, "Bakker"),
    (None, "Yilmaz"),
    ("van", "Dijk"),
    (None, "Ramdin"),
    (None, "Smits"),
    (None, "Visser"),
    (None, "Bouzid"),
    ("van den", "Heuvel"),
    (None, "Martens"),
    (None, "Kaya"),
    ("de", "Groot"),
    (None, "Hendriks"),
]
STREETS = [
    "Kerkstraat",
    "Molenstraat",
    "Schoolstraat",
    "Stationsstraat",
    "Nieuwstraat",
    "Julianastraat",
    "Wilhelminastraat",
    "Lindelaan",
    "Eikenlaan",
    "Parallelweg",
    "Meidoornstraat",
    "Merelstraat",
]
MONTHS = [
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
]


def long_date(day: date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def brp_date(day: date) -> dict:
    """A date as the BRP API gives it."""
    return {"type": "Datum", "datum": day.isoformat(), "langFormaat": long_date(day)}


@dataclass(frozen=True)
class Address:
    street: str
    house_number: int
    postcode: str
    place: str
    since: date
    object_id: str  # BAG: adresseerbaar object
    number_id: str  # BAG: nummeraanduiding


@dataclass(frozen=True)
class Resident:
    bsn: str
    given_names: str
    prefix: str | None
    surname: str
    sex: str  # M / V
    birth_date: date
    municipality: Municipality
    registered_since: date
    address: Address | None  # None: no known address

    def as_brp(self) -> dict:
        """The person in the shape of Haal Centraal "BRP Personen Bevragen" (``Persoon``)."""
        naam = {
            "voornamen": self.given_names,
            "geslachtsnaam": self.surname,
            "voorletters": "".join(f"{n[0]}." for n in self.given_names.split()),
            "volledigeNaam": " ".join(p for p in (self.given_names, self.prefix, self.surname) if p),
        }
        if self.prefix:
            naam["voorvoegsel"] = self.prefix
        person: dict = {
            "burgerservicenummer": self.bsn,
            "geslacht": {"code": self.sex, "omschrijving": "man" if self.sex == "M" else "vrouw"},
            "naam": naam,
            "geboorte": {"datum": brp_date(self.birth_date)},
            "gemeenteVanInschrijving": {"code": self.municipality.code, "omschrijving": self.municipality.name},
            "datumInschrijvingInGemeente": brp_date(self.registered_since),
        }
        if self.address is None:
            person["verblijfplaats"] = {"type": "VerblijfplaatsOnbekend", "datumVan": brp_date(self.registered_since)}
        else:
            a = self.address
            person["verblijfplaats"] = {
                "type": "Adres",
                "verblijfadres": {
                    "officieleStraatnaam": a.street,
                    "korteStraatnaam": a.street[:24],
                    "huisnummer": a.house_number,
                    "postcode": a.postcode,
                    "woonplaats": a.place,
                },
                "adresseerbaarObjectIdentificatie": a.object_id,
                "nummeraanduidingIdentificatie": a.number_id,
                "datumVan": brp_date(a.since),
            }
            person["adressering"] = {
                "adresregel1": f"{a.street} {a.house_number}"[:40],
                "adresregel2": f"{a.postcode} {a.place}"[:50],
            }
        return person


def _address(rnd: random.Random, municipality: Municipality, since: date) -> Address:
    low, high = municipality.postcodes
    letters = "ABCDEGHJKLMNPRSTVWXZ"
    return Address(
        street=rnd.choice(STREETS),
        house_number=rnd.randint(1, 180),
        postcode=f"{rnd.randint(low, high)}{rnd.choice(letters)}{rnd.choice(letters)}",
        place=municipality.name,
        since=since,
        object_id=f"{municipality.code}01{rnd.randint(0, 10**10 - 1):010d}",
        number_id=f"{municipality.code}20{rnd.randint(0, 10**10 - 1):010d}",
    )


def made_up_bsns(start: int) -> Iterator[str]:
    """Numbers from ``start`` on that pass the 11-check."""
    return (str(n) for n in itertools.count(start) if stdnum_bsn.is_valid(str(n)))


def make_resident(bsn: str, *, seed: int, municipality: str | None = None, since: date | None = None) -> Resident:
    """The made-up person with this BSN; ``municipality`` forces where they are registered
    (``"1999"``: no known address, in the RNI)."""
    rnd = random.Random(f"{seed}:person:{bsn}")
    sex = rnd.choice("MV")
    given = rnd.choice(GIVEN_NAMES_M if sex == "M" else GIVEN_NAMES_V)
    if rnd.random() < 0.3:
        given = f"{given} {rnd.choice(GIVEN_NAMES_M if sex == 'M' else GIVEN_NAMES_V)}"
    prefix, surname = rnd.choice(SURNAMES)
    birth = date(1962, 1, 1) + timedelta(days=rnd.randint(0, 43 * 365))
    registered = birth + timedelta(days=rnd.randint(18 * 365, max(18 * 365, (date(2025, 1, 1) - birth).days)))
    if municipality is None:
        roll = rnd.random()
        municipality = rnd.choice(NORTH_BRABANT) if roll < 0.8 else rnd.choice(ELSEWHERE) if roll < 0.92 else RNI.code
    since = since or registered
    if municipality == RNI.code:
        return Resident(bsn, given, prefix, surname, sex, birth, RNI, since, None)
    place = MUNICIPALITIES.get(municipality) or Municipality(municipality, f"gemeente {municipality}", (1000, 9999))
    return Resident(bsn, given, prefix, surname, sex, birth, place, since, _address(rnd, place, since))


class Population:
    """The population register's contents: every valid BSN, unless moved or removed."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._moved: dict[str, Resident] = {}
        self._removed: set[str] = set()

    def find(self, bsn: str) -> Resident | None:
        if bsn in self._removed or not stdnum_bsn.is_valid(bsn):
            return None
        return self._moved.get(bsn) or make_resident(bsn, seed=self.seed)

    def register(self, bsn: str, municipality: str, since: date) -> Resident:
        """The person moved: registered in ``municipality`` from ``since``."""
        self._removed.discard(bsn)
        resident = make_resident(bsn, seed=self.seed, municipality=municipality, since=since)
        self._moved[bsn] = resident
        return resident

    def remove(self, bsn: str) -> None:
        self._moved.pop(bsn, None)
        self._removed.add(bsn)

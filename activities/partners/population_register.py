"""The population register (BRP), through Haal Centraal "BRP Personen Bevragen" v2.

Asks by BSN (``RaadpleegMetBurgerservicenummer``) for the municipality of registration
and the address only: no more personal data than the case needs. The BSN goes in the
request body, never in a URL or a log line.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel
from temporalio import activity

from activities.partners.errors import as_activity_errors
from activities.partners.http import Answer, PartnerClient
from domain.models import Bsn, MunicipalityCode
from domain.registration import Address, Registration, RegistrationStatus

# Registered in the RNI (registratie niet-ingezetenen): no address in the Netherlands.
RNI = "1999"

FIELDS = ["burgerservicenummer", "gemeenteVanInschrijving", "datumInschrijvingInGemeente", "verblijfplaats"]


class BrpDate(Answer):
    type: str
    datum: date | None = None  # only for a complete date ("Datum")


class ValueTable(Answer):
    code: str
    omschrijving: str | None = None


class ResidenceAddress(Answer):
    officieleStraatnaam: str | None = None  # the API's names
    korteStraatnaam: str | None = None
    huisnummer: int | None = None
    huisletter: str | None = None
    huisnummertoevoeging: str | None = None
    postcode: str | None = None
    woonplaats: str | None = None


class Residence(Answer):
    type: str  # Adres, VerblijfplaatsBuitenland, VerblijfplaatsOnbekend, Locatie
    verblijfadres: ResidenceAddress | None = None
    datumVan: BrpDate | None = None


class Person(Answer):
    burgerservicenummer: str
    gemeenteVanInschrijving: ValueTable | None = None
    datumInschrijvingInGemeente: BrpDate | None = None
    verblijfplaats: Residence | None = None


class PersonsAnswer(Answer):
    type: Literal["RaadpleegMetBurgerservicenummer"]
    personen: list[Person]


class PopulationRegisterClient(PartnerClient):
    partner = "population_register"

    async def find(self, bsn: str) -> Person | None:
        """The person with this BSN, or ``None`` when the register knows nobody by it."""
        query = {"type": "RaadpleegMetBurgerservicenummer", "burgerservicenummer": [bsn], "fields": FIELDS}
        answer = await self._call("POST", "personen", PersonsAnswer, json=query)
        assert answer is not None
        return next((p for p in answer.personen if p.burgerservicenummer == bsn), None)


# ---------------------------------------------------------------------------
# The activity


class RegistrationCheck(BaseModel):
    bsn: Bsn
    municipality: MunicipalityCode  # where the case is


def registration_of(person: Person | None, municipality: str) -> Registration:
    if person is None:
        return Registration(status="not_found")
    registered = person.gemeenteVanInschrijving
    residence = person.verblijfplaats
    where = registered.code if registered else None
    address = None
    if residence is not None and residence.type == "Adres" and residence.verblijfadres is not None:
        a = residence.verblijfadres
        address = Address(
            street=a.officieleStraatnaam or a.korteStraatnaam or "",
            house_number=a.huisnummer,
            house_letter=a.huisletter,
            house_number_addition=a.huisnummertoevoeging,
            postcode=a.postcode,
            place=a.woonplaats,
        )
    status: RegistrationStatus
    if where is None or where == RNI or (residence is not None and residence.type == "VerblijfplaatsOnbekend"):
        status = "no_known_address"
    elif where != municipality:
        status = "registered_elsewhere"
    else:
        status = "registered_here"
    since = person.datumInschrijvingInGemeente
    return Registration(
        status=status,
        municipality=where,
        municipality_name=registered.omschrijving if registered else None,
        registered_since=since.datum if since else None,
        address=address,
    )


class PopulationRegisterActivities:
    def __init__(self, client: PopulationRegisterClient) -> None:
        self._client = client

    @activity.defn
    async def check_registration(self, check: RegistrationCheck) -> Registration:
        """Where the person is registered, compared with the case's municipality."""
        with as_activity_errors():
            person = await self._client.find(check.bsn)
        return registration_of(person, check.municipality)

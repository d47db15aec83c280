"""The population register (BRP), in the shape of Haal Centraal "BRP Personen Bevragen" v2.

Only the query ``RaadpleegMetBurgerservicenummer`` is simulated. The BSN travels in the
body, never in the URL. A person not found is an empty ``personen`` list, as in the real
API; a wrong request is a 400 problem with ``invalidParams`` that never echoes a value.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from partners.deps import SimDep, problem

router = APIRouter(prefix="/haalcentraal/api/brp", tags=["population register (BRP)"])

# The top-level fields of a ``Persoon``; ``fields`` may name these or paths below them.
PERSON_FIELDS = {
    "aNummer",
    "adressering",
    "burgerservicenummer",
    "datumEersteInschrijvingGBA",
    "datumInschrijvingInGemeente",
    "europeesKiesrecht",
    "geboorte",
    "gemeenteVanInschrijving",
    "geslacht",
    "gezag",
    "immigratie",
    "indicatieCurateleRegister",
    "kinderen",
    "leeftijd",
    "naam",
    "nationaliteiten",
    "ouders",
    "overlijden",
    "partners",
    "uitsluitingKiesrecht",
    "verblijfplaats",
    "verblijfstitel",
}
# Delivered without asking; asking for them is an error.
AUTOMATIC_FIELDS = {"inOnderzoek", "geheimhoudingPersoonsgegevens", "opschortingBijhouding", "rni", "verificatie"}

Bsn = Annotated[str, StringConstraints(pattern=r"^[0-9]{9}$")]
FieldPath = Annotated[str, StringConstraints(pattern=r"^[a-zA-Z0-9\._]{1,200}$")]


class RaadpleegMetBurgerservicenummer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["RaadpleegMetBurgerservicenummer"]
    burgerservicenummer: list[Bsn] = Field(min_length=1, max_length=20)
    fields: list[FieldPath] = Field(min_length=1, max_length=130)
    gemeenteVanInschrijving: Annotated[str, StringConstraints(pattern=r"^[0-9]{4}$")] | None = None


def _bad_request(title: str, invalid: list[dict[str, str]]) -> Any:
    return problem(400, title, "The request could not be understood.", code="paramsValidation", invalidParams=invalid)


def _select(person: dict[str, Any], paths: list[str]) -> dict[str, Any]:
    """Only the fields asked for (a path takes everything below it)."""
    selected: dict[str, Any] = {}
    for path in paths:
        parts, value = path.split("."), person
        for part in parts:
            if not isinstance(value, dict) or part not in value:
                break
            value = value[part]
        else:
            target = selected
            for part in parts[:-1]:
                target = target.setdefault(part, {})
            target[parts[-1]] = value
    return selected


@router.post("/personen")
async def find_persons(sim: SimDep, query: Annotated[dict[str, Any], Body()]):
    """Persons by BSN (``RaadpleegMetBurgerservicenummer``), with the fields asked for."""
    if query.get("type") != "RaadpleegMetBurgerservicenummer":
        return _bad_request(
            "Only RaadpleegMetBurgerservicenummer is simulated.", [{"name": "type", "code": "value", "reason": "type"}]
        )
    try:
        request = RaadpleegMetBurgerservicenummer.model_validate(query)
    except ValidationError as err:
        invalid = [
            {"name": ".".join(str(p) for p in e["loc"]), "code": e["type"], "reason": e["msg"][:80]}
            for e in err.errors(include_input=False, include_url=False)
        ]
        return _bad_request("Een of meerdere parameters zijn niet correct.", invalid)
    invalid = []
    for path in request.fields:
        root = path.split(".")[0]
        if root in AUTOMATIC_FIELDS:
            invalid.append({"name": "fields", "code": "field", "reason": f"{root} wordt automatisch geleverd"})
        elif root not in PERSON_FIELDS:
            invalid.append({"name": "fields", "code": "field", "reason": f"onbekend veld {root}"})
    if invalid:
        return _bad_request("Een of meerdere parameters zijn niet correct.", invalid)
    persons = []
    for bsn in dict.fromkeys(request.burgerservicenummer):
        resident = sim.population.find(bsn)
        if resident is None:
            continue
        if request.gemeenteVanInschrijving and resident.municipality.code != request.gemeenteVanInschrijving:
            continue
        persons.append(_select(resident.as_brp(), request.fields))
    return {"type": "RaadpleegMetBurgerservicenummer", "personen": persons}

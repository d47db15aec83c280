"""The forms of the web front: which fields a task's outcome or an event asks for, with
their Dutch labels, and how a posted form becomes the JSON body the API takes.

Nothing here checks what is filled in beyond turning text into JSON: the API validates,
and its refusal is what the page shows. A field left empty is left out, so that the API
says it is missing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from domain.models import BasicCondition, ScreeningStatus
from web import labels

FieldKind = Literal["date", "text", "textarea", "select", "yesno", "screening", "municipality"]


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    kind: FieldKind = "text"
    options: dict[str, str] = field(default_factory=dict)
    required: bool = True
    hint: str = ""


NOTE = FormField("note", "Toelichting", "textarea", required=False)

OUTCOMES: dict[str, list[FormField]] = {
    "note": [NOTE],
    "contact": [FormField("contacted_on", "Datum van het contact", "date"), NOTE],
    "screening": [FormField("conditions", "Screening per basisvoorwaarde", "screening")],
    "plan": [FormField("agreed_on", "Datum waarop het plan is afgesproken", "date")],
    "id_document": [
        FormField("document", "Soort document", "select", labels.DOCUMENTS),
        FormField("ready_on", "Datum waarop het document klaarligt", "date"),
    ],
    "benefit_application": [FormField("submitted_on", "Datum van de aanvraag", "date")],
    "benefit_decision": [
        FormField("decision", "Besluit", "select", labels.BENEFIT_DECISIONS),
        FormField("decided_on", "Datum van het besluit", "date"),
    ],
    "advance": [FormField("advance_paid", "Voorschot betaald", "yesno"), NOTE],
    # The mayor's track
    "notice_registered": [FormField("concerns_municipality", "Betreft deze gemeente", "yesno"), NOTE],
    "information": [
        FormField("probation_consulted", "Reclassering geraadpleegd", "yesno"),
        FormField("police_consulted", "Politie geraadpleegd", "yesno"),
        FormField("victims_nearby", "Slachtoffers in de buurt", "select", labels.VICTIMS),
        NOTE,
    ],
    "assessment": [
        FormField("decision", "Beoordeling", "select", labels.DECISIONS),
        FormField("reasons", "Motivering", "textarea"),
    ],
    "measures": [
        FormField("type", "Maatregel", "select", labels.MEASURE_TYPES),
        FormField("starts_on", "Ingangsdatum", "date"),
        FormField("ends_on", "Einddatum", "date", required=False),
        FormField("area", "Gebied", required=False, hint="Nodig bij een gebiedsverbod of gebiedsgebod"),
        FormField("description", "Omschrijving", "textarea", required=False, hint="Nodig bij een andere maatregel"),
    ],
}

CONDITION_OPTIONS = {c.value: labels.word(labels.CONDITIONS, c.value) for c in BasicCondition}

# The events a caseworker records on the case page.
CASE_EVENTS: dict[str, list[FormField]] = {
    "expected_release_changed": [
        FormField("expected_release", "Nieuwe verwachte ontslagdatum", "date"),
        FormField("reason", "Reden", "textarea", required=False),
    ],
    "released": [FormField("released_on", "Datum van ontslag", "date")],
    "moved": [FormField("municipality", "Nieuwe gemeente (CBS-code)", "municipality", hint="Vier cijfers, bijv. 0796")],
    "declined": [NOTE],
    "consent_withdrawn": [FormField("condition", "Basisvoorwaarde", "select", CONDITION_OPTIONS)],
    "consent_given": [FormField("condition", "Basisvoorwaarde", "select", CONDITION_OPTIONS)],
}

# The events the mayor's office records on a notice.
NOTICE_EVENTS: dict[str, list[FormField]] = {
    "date_changed": [
        FormField("starts_on", "Nieuwe datum", "date"),
        FormField("ends_on", "Nieuwe einddatum (verlof)", "date", required=False),
    ],
    "returned": [FormField("returned_on", "Datum van terugkeer", "date")],
    "leave_cancelled": [],
    "re_detained": [],
}

_YES_NO = {"ja": True, "nee": False}


def body_from_form(fields: Sequence[FormField], form: Mapping[str, str], prefix: str = "") -> dict[str, Any]:
    """The JSON object a form's fields make: dates and texts as given, yes/no as booleans,
    a screening as one status per condition. Empty fields are left out."""
    body: dict[str, Any] = {}
    for item in fields:
        key = prefix + item.name
        if item.kind == "screening":
            statuses = {c.value: form.get(f"{key}.{c.value}", "").strip() for c in BasicCondition}
            body[item.name] = {c: s for c, s in statuses.items() if s}
            continue
        value = form.get(key, "").strip()
        if not value:
            continue
        if item.kind == "yesno":
            body[item.name] = _YES_NO.get(value, value)
        else:
            body[item.name] = value
    return body


def outcome_body(kind: str, form: Mapping[str, str]) -> dict[str, Any]:
    fields = OUTCOMES.get(kind, [NOTE])
    if kind == "measures":
        # Up to three measures on the form; a row left empty is not a measure.
        rows = [body_from_form(fields, form, prefix=f"measures.{i}.") for i in range(3)]
        return {"kind": kind, "measures": [row for row in rows if row]}
    return {"kind": kind, **body_from_form(fields, form)}


def event_body(events: Mapping[str, Sequence[FormField]], event_type: str, form: Mapping[str, str]) -> dict[str, Any]:
    return {"type": event_type, **body_from_form(events.get(event_type, []), form)}


SCREENING_OPTIONS = {s.value: labels.word(labels.SCREENING, s.value) for s in ScreeningStatus}


def field_errors(errors: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """The API's field errors by the form field they concern: the last part of the field's
    path that names one (``body.outcome.decided_on`` → ``decided_on``)."""
    by_field: dict[str, str] = {}
    for error in errors:
        path = str(error.get("field", "")).split(".")
        names = [p for p in path if p and not p.isdigit() and p not in ("body", "outcome", "event")]
        # A union's member names its kind first (outcome.benefit_decision.decided_on).
        name = names[-1] if names else ""
        by_field.setdefault(name, str(error.get("message", "")))
    return by_field

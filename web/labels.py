"""The web front's Dutch words for reentry's codes. A code without a word here is shown
as it is, so that a new code in the policy is never hidden."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

NETHERLANDS = ZoneInfo("Europe/Amsterdam")

PHASES = {
    "notified": "Gemeld",
    "planning": "Plan in de maak",
    "preparing_release": "Voorbereiding ontslag",
    "released": "Vrij, nazorg",
    "closed": "Gesloten",
}

CONDITIONS = {
    "id_document": "Identiteitsbewijs",
    "income": "Inkomen",
    "housing": "Huisvesting",
    "work_daytime": "Werk of dagbesteding",
    "care": "Zorg",
    "debts": "Schulden",
    "social_network": "Sociaal netwerk",
}

REGISTRATION = {
    "registered_here": "Ingeschreven in deze gemeente",
    "registered_elsewhere": "Ingeschreven in een andere gemeente",
    "no_known_address": "Geen bekend adres",
    "not_found": "Niet gevonden in de BRP",
}

ADVICE = {"supervision": "Toezicht", "programme": "Penitentiair programma", "none": "Geen toezicht"}
SUPERVISION = {"none": "Geen", "planned": "Gepland", "active": "Loopt", "ended": "Afgelopen"}

TASK_STATUSES = {
    "open": "open",
    "completed": "afgerond",
    "cancelled": "vervallen",
    "not_applicable": "niet van toepassing",
}

SCREENING = {
    "in_order": "Op orde",
    "needs_action": "Actie nodig",
    "unknown": "Onbekend",
    "no_consent": "Geen toestemming",
}

ROLES = {
    "caseworker": "casemanager",
    "coordinator": "coördinator",
    "mayor_office": "kabinet van de burgemeester",
    "partner_system": "ketenpartner (systeem)",
    "auditor": "auditor",
    "admin": "beheerder",
}

ESCALATION = {
    "none": "",
    "reminder": "Herinnering verstuurd",
    "supervisor": "Geëscaleerd naar leidinggevende",
    "coordinator": "Geëscaleerd naar coördinator",
}

CLOSED_REASONS = {
    "aftercare_completed": "Nazorg afgerond",
    "re_detained": "Opnieuw gedetineerd",
    "moved": "Verhuisd naar een andere gemeente",
    "declined": "Wil geen ondersteuning",
    "deceased": "Overleden",
    "other": "Anders",
    "not_concerned": "Betreft deze gemeente niet",
    "leave_cancelled": "Verlof ingetrokken",
    "evaluated": "Geëvalueerd",
    "filtered": "Vastgelegd, niet opgepakt (keuze gemeente)",
    "erased": "Gewist",
}
OFFENCES = {"violent": "Geweldsdelict", "sexual": "Zedendelict"}
MEASURES = {"none": "Geen", "tbs": "Tbs", "pij": "Pij-maatregel"}

NOTICE_KINDS = {"return": "Terugkeer", "leave": "Verlof"}
NOTICE_STATUSES = {"open": "Open", "closed": "Gesloten", "filtered": "Niet van toepassing (voorkeur gemeente)"}
DECISIONS = {"no_action": "Geen actie", "monitor": "Volgen", "measures": "Maatregelen"}
MEASURE_TYPES = {
    "area_ban": "Gebiedsverbod (art. 172a Gemeentewet)",
    "area_order": "Gebiedsgebod (art. 172a Gemeentewet)",
    "restraining_order": "Tijdelijk huisverbod",
    "other": "Andere maatregel",
}
DOCUMENTS = {"passport": "Paspoort", "identity_card": "Identiteitskaart", "residence_permit": "Verblijfsdocument"}
BENEFIT_DECISIONS = {"granted": "Toegekend", "refused": "Afgewezen"}
VICTIMS = {"yes": "Ja", "no": "Nee", "unknown": "Onbekend"}

PLAN_STATUSES = {"draft": "Concept", "agreed": "Vastgesteld"}
PLAN_ACTIONS = {
    "id_apply": "Identiteitsbewijs aanvragen",
    "id_collect": "Identiteitsbewijs ophalen",
    "income_apply": "Uitkering aanvragen",
    "income_advance": "Voorschot aanvragen",
    "housing_search": "Woonruimte zoeken",
    "housing_shelter": "Opvang regelen",
    "housing_return": "Terug naar eigen woning",
    "work_reintegration": "Re-integratie naar werk",
    "daytime_activity": "Dagbesteding regelen",
    "care_insurance": "Zorgverzekering regelen",
    "care_referral": "Verwijzing naar zorg",
    "debt_inventory": "Schulden in kaart brengen",
    "debt_counselling": "Schuldhulpverlening",
    "network_contact": "Contact met netwerk herstellen",
}
RISK_LEVELS = {"low": "Laag", "moderate": "Gemiddeld", "high": "Hoog"}
RISK_CODES = {
    "violence": "Geweld",
    "domestic_violence": "Huiselijk geweld",
    "sexual_offence": "Zedendelict",
    "weapons": "Wapens",
    "victim_nearby": "Slachtoffer in de buurt",
    "contact_ban": "Contactverbod",
    "area_ban": "Gebiedsverbod",
    "substance_use": "Middelengebruik",
    "mental_health": "Psychische problematiek",
    "absconding": "Onttrekking",
}

EVENTS = {
    "expected_release_changed": "Verwachte ontslagdatum gewijzigd",
    "released": "Vrijgelaten",
    "moved": "Verhuisd naar een andere gemeente",
    "declined": "Wil geen ondersteuning",
    "consent_withdrawn": "Toestemming ingetrokken",
    "consent_given": "Toestemming gegeven",
    "date_changed": "Datum gewijzigd",
    "leave_cancelled": "Verlof ingetrokken",
    "returned": "Teruggekeerd",
    "re_detained": "Opnieuw gedetineerd",
    "risk_seen": "Risico-informatie gezien",
}

# The timeline's lines; one not named here is shown by its code.
HISTORY = {
    "case_started": "Zaak gestart",
    "case_closed": "Zaak gesloten",
    "task_created": "Taak aangemaakt",
    "task_completed": "Taak afgerond",
    "task_claimed": "Taak opgepakt",
    "task_assigned": "Taak toegewezen",
    "task_cancelled": "Taak vervallen",
    "task_not_applicable": "Taak niet van toepassing",
    "task_reopened": "Taak heropend",
    "task_escalated": "Taak geëscaleerd",
    "reminder_sent": "Herinnering verstuurd",
    "pre_release_tasks_triaged": "Taken voor ontslag getrieerd",
    "probation_advice_received": "Advies reclassering ontvangen",
    "id_appointment_booked": "Afspraak burgerzaken gemaakt",
    "id_document_ready": "Identiteitsbewijs klaar",
    "benefit_application_received": "Aanvraag uitkering ontvangen",
    "benefit_application_in_review": "Aanvraag uitkering in behandeling",
    "benefit_decided": "Besluit uitkering genomen",
    "notice_received": "Melding ontvangen",
    "notice_repeated": "Melding opnieuw ontvangen",
    "notice_filtered": "Melding vastgelegd, niet opgepakt (keuze gemeente)",
    "notice_closed": "Melding gesloten",
    "plan_compressed": "Stappen naar voren gehaald (korte termijn)",
    "screening_recorded": "Screening vastgelegd",
    "plan_agreed": "Plan afgesproken",
    "waiting_for_next_case": "Wacht op de melding van de nieuwe detentie",
    "previous_case_linked": "Gekoppeld aan de vorige zaak",
    "previous_case_not_checked": "Niet na te gaan of er een vorige zaak is",
    "plan_shared": "D&R-plan ontvangen van de inrichting",
    "risk_information_received": "Risico-informatie ontvangen",
    "leave_granted": "Verlof verleend",
    "transferred": "Overgeplaatst",
    "deceased": "Overleden",
    "closed": "Gesloten",
    **EVENTS,
}

# What the API's refusals mean, for the message beside a form.
PROBLEMS = {
    400: "Het formulier kon niet worden gelezen.",
    403: "U mag dit niet doen.",
    404: "Niet gevonden.",
    409: "Dit kan nu niet.",
    413: "Wat u verstuurde is te groot.",
    422: "Controleer wat u hebt ingevuld.",
    503: "De zaak antwoordt nu niet. Probeer het zo opnieuw: dat is veilig.",
}


def word(table: dict[str, str], code: object) -> str:
    if code is None:
        return ""
    text = str(code)
    return table.get(text, text)


def dutch_time(value: object) -> str:
    """A moment of the API (ISO 8601, UTC) as the Dutch read it: 10-12-2026 10:11."""
    if not value:
        return "—"
    moment = datetime.fromisoformat(str(value)).astimezone(NETHERLANDS)
    return moment.strftime("%d-%m-%Y %H:%M")


_NEEDED_FOR = re.compile(r"^needed for (?P<task>[a-z0-9_]+) \(due (?P<day>\d{4}-\d{2}-\d{2})\)$")


def due_reason(reason: object, titles: dict[str, str]) -> str:
    """Why a task is due earlier than its own deadline, in Dutch; nothing for its own."""
    match = _NEEDED_FOR.match(str(reason or ""))
    if not match:
        return ""
    day = datetime.fromisoformat(match["day"]).strftime("%d-%m-%Y")
    title = titles.get(match["task"])
    if title is None:
        return f"eerder, want een taak die erop wacht moet uiterlijk {day} klaar zijn"
    return f"eerder, want nodig voor: {title} (uiterlijk {day})"

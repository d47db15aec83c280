"""Partner systems: one typed httpx client and one activity class per partner.

- ``message_box``: the justice information exchange's re-integration message box
- ``population_register``: the BRP, through Haal Centraal "BRP Personen Bevragen"
- ``income``: the municipality's income system (benefit applications)
- ``civil_affairs``: ID documents (appointments, readiness)
- ``probation``: 3RO advice and supervision
- ``delivery``: reminders and escalations by e-mail (SMTP) and Open Notificaties

Failures are ``PartnerError`` s (``errors``); ``options`` has the timeouts and retry
policies to call each activity with.
"""

from activities.partners.civil_affairs import CivilAffairsActivities, CivilAffairsClient
from activities.partners.delivery import MailSender, NotificationDeliveryActivities, OpenNotificatiesClient
from activities.partners.errors import (
    MalformedAnswer,
    NotFound,
    PartnerError,
    PartnerFailed,
    PartnerTimeout,
    PartnerUnavailable,
    PartnerUnreachable,
    RequestRejected,
)
from activities.partners.income import IncomeActivities, IncomeClient
from activities.partners.message_box import MessageBoxActivities, MessageBoxClient
from activities.partners.population_register import PopulationRegisterActivities, PopulationRegisterClient
from activities.partners.probation import ProbationActivities, ProbationClient

__all__ = [
    "CivilAffairsActivities",
    "CivilAffairsClient",
    "IncomeActivities",
    "IncomeClient",
    "MailSender",
    "MalformedAnswer",
    "MessageBoxActivities",
    "MessageBoxClient",
    "NotFound",
    "NotificationDeliveryActivities",
    "OpenNotificatiesClient",
    "PartnerError",
    "PartnerFailed",
    "PartnerTimeout",
    "PartnerUnavailable",
    "PartnerUnreachable",
    "PopulationRegisterActivities",
    "PopulationRegisterClient",
    "ProbationActivities",
    "ProbationClient",
    "RequestRejected",
]

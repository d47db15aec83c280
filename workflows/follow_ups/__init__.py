"""The conversations a case holds with partner systems beside its own loop: one driver
(``driver``) and one adapter per partner."""

from workflows.follow_ups.civil_affairs import CivilAffairs
from workflows.follow_ups.driver import SYSTEM_ACTOR, FollowUps
from workflows.follow_ups.income import IncomeSystem
from workflows.follow_ups.mayoral_advice import MayoralProbation
from workflows.follow_ups.probation import Probation
from workflows.follow_ups.registration import PopulationRegister

# Taken up again, in this order, by every run of a case whose state has them running.
PARTNERS = (PopulationRegister, IncomeSystem, CivilAffairs, Probation)

__all__ = [
    "PARTNERS",
    "SYSTEM_ACTOR",
    "CivilAffairs",
    "FollowUps",
    "IncomeSystem",
    "MayoralProbation",
    "PopulationRegister",
    "Probation",
]

"""The population register (BRP): where is the person registered? Asked once, right after
the day-one notice, and retried until the policy's ``registration_check_within``."""

from __future__ import annotations

from temporalio import workflow

from workflows.follow_ups.driver import Call, Case, FollowUp

with workflow.unsafe.imports_passed_through():
    from activities.partners.options import POPULATION_REGISTER_LOOKUP
    from activities.partners.population_register import PopulationRegisterActivities, RegistrationCheck
    from domain import planning
    from domain.models import BasicCondition, CaseState, Phase, ScreeningStatus
    from domain.registration import CHECK_FAILED_EVENT, FAILURE_REASONS, Registration, RegistrationLookup


class PopulationRegister(FollowUp[RegistrationLookup, Registration]):
    actor = "population_register"
    failed_action = CHECK_FAILED_EVENT
    failure_reasons = FAILURE_REASONS

    @classmethod
    def begin(cls, state: CaseState, case: Case) -> PopulationRegister | None:
        """A new case whose policy checks the registration."""
        within = state.policy.registration_check_within
        if within is None:
            return None
        state.registration = RegistrationLookup(started_at=workflow.now(), ask_until=workflow.now() + within)
        return cls(state, case, state.registration)

    @classmethod
    def resume(cls, state: CaseState, case: Case) -> PopulationRegister | None:
        return cls(state, case, state.registration) if state.registration is not None else None

    def request(self) -> Call[Registration] | None:
        notice = self.state.notice
        # The BSN travels only in the (encrypted) input.
        return Call(
            PopulationRegisterActivities.check_registration,
            RegistrationCheck(bsn=notice.person.bsn, municipality=notice.municipality),
            POPULATION_REGISTER_LOOKUP,
        )

    def needless(self) -> str | None:
        # Closed: what the register would still say changes nothing.
        return "case closed" if self.state.phase == Phase.CLOSED else None

    def take(self, answer: Registration) -> None:
        state, lookup, now = self.state, self.progress, workflow.now()
        lookup.result, lookup.finished_at = answer, now
        match answer.status:
            case "registered_here":
                self.case.changed_by(self.actor, "registration_confirmed", detail=answer.municipality)
            case "registered_elsewhere":
                # The same course as a reported move: a transfer task, closed as moved when done.
                if state.moved_to is None and answer.municipality:
                    state.moved_to = answer.municipality
                    state.anchors[planning.event_anchor_key("moved")] = now
                self.case.changed_by(self.actor, "registered_elsewhere", detail=answer.municipality)
            case "no_known_address":
                # Registered in the RNI, or the address is unknown: housing was most likely
                # lost during detention. Flagged for the screening, not a task: whether
                # housing needs action, and consent to act on it, is the screening's to say.
                if state.screening.get(BasicCondition.HOUSING) != ScreeningStatus.NO_CONSENT:
                    state.condition_flags[BasicCondition.HOUSING] = "no known address in the population register"
                self.case.changed_by(self.actor, "registration_no_known_address")
            case "not_found":
                self.case.changed_by(self.actor, "registration_not_found")

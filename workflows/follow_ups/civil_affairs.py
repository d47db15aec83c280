"""Civil affairs (burgerzaken): when a caseworker takes the ID document task on, the case
books the appointment, then reads once a working day whether the document is ready; a
ready document completes the task unless a caseworker completed it first."""

from __future__ import annotations

from temporalio import workflow

from workflows.follow_ups.driver import Call, Case, FollowUp

with workflow.unsafe.imports_passed_through():
    from activities.partners.civil_affairs import (
        CivilAffairsActivities,
        IdAppointment,
        IdAppointmentQuery,
        IdAppointmentRequest,
    )
    from activities.partners.options import CIVIL_AFFAIRS_BOOK, CIVIL_AFFAIRS_READ
    from domain.civil_affairs import FAILURE_REASONS, FOLLOW_UP_FAILED_EVENT, IdDocumentFollowUp
    from domain.models import BasicCondition, CaseState, IdDocumentOutcome, Task, TaskStatus, local_date
    from domain.policy import FollowUpFigures


class CivilAffairs(FollowUp[IdDocumentFollowUp, IdAppointment]):
    actor = "civil_affairs"
    failed_action = FOLLOW_UP_FAILED_EVENT
    failure_reasons = FAILURE_REASONS
    ended_action = "id_follow_up_ended"
    condition = BasicCondition.ID_DOCUMENT

    @classmethod
    def begin(cls, state: CaseState, case: Case, task: Task) -> CivilAffairs | None:
        """A caseworker took the ID document on, and the policy books and follows it."""
        figures = state.policy.civil_affairs_follow_up
        if figures is None or state.id_document_follow_up is not None:
            return None
        now = workflow.now()
        state.id_document_follow_up = IdDocumentFollowUp(
            task=task.key,
            reference=f"{state.case_id}/{task.key}",
            started_at=now,
            ask_until=now + figures.unavailable_within,
        )
        return cls(state, case, state.id_document_follow_up)

    @classmethod
    def resume(cls, state: CaseState, case: Case) -> CivilAffairs | None:
        return cls(state, case, state.id_document_follow_up) if state.id_document_follow_up is not None else None

    def figures(self) -> FollowUpFigures | None:
        return self.state.policy.civil_affairs_follow_up

    def task_key(self) -> str | None:
        return self.progress.task

    def request(self) -> Call[IdAppointment] | None:
        if self.progress.appointment_id is not None:
            return None
        notice = self.state.notice
        # Idempotent by the reference: a booking made again finds the appointment it made.
        return Call(
            CivilAffairsActivities.book_id_appointment,
            IdAppointmentRequest(
                reference=self.progress.reference, bsn=notice.person.bsn, municipality=notice.municipality
            ),
            CIVIL_AFFAIRS_BOOK,
        )

    def read(self) -> Call[IdAppointment] | None:
        return Call(
            CivilAffairsActivities.read_id_appointment,
            IdAppointmentQuery(appointment_id=self.progress.appointment_id or ""),
            CIVIL_AFFAIRS_READ,
        )

    def take(self, answer: IdAppointment) -> None:
        follow = self.progress
        booked = follow.appointment_id is None
        follow.appointment_id, follow.appointment_at, follow.document = answer.id, answer.starts_at, answer.document
        follow.document_status = answer.document_status
        if booked:
            detail = f"{local_date(answer.starts_at).isoformat()}, {answer.location}"
            self.case.changed_by(self.actor, "id_appointment_booked", task_key=follow.task, detail=detail)
        if answer.document_status != "ready" or answer.ready_on is None:
            return
        follow.ready_on, follow.finished_at = answer.ready_on, workflow.now()
        task = self.state.task(follow.task)
        if task is not None and task.status == TaskStatus.OPEN:
            self.case.finish(task, self.actor, IdDocumentOutcome(document=answer.document, ready_on=answer.ready_on))
        self.case.changed_by(self.actor, "id_document_ready", task_key=follow.task)

    def forget(self) -> None:
        # Without consent nothing about the ID document is kept.
        self.state.id_document_follow_up = None

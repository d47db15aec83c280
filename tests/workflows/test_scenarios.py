"""The courses a case really takes (docs/scenarios.md), under the time-skipping server."""

from __future__ import annotations

from datetime import timedelta

import pytest
import yaml
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from core.commands import start_case
from domain.errors import ErrorType
from domain.models import (
    ClosedReason,
    CompleteTaskInput,
    EscalationLevel,
    Phase,
    StartCaseInput,
    TaskStatus,
    as_datetime,
    local_date,
)
from domain.policy import DEFAULT_POLICY_PATH, load_policy, parse_policy
from tests.helpers import notice
from tests.workflows.driver import CaseDriver, run_histories
from worker.seed import SCREENING as SCREENING_TILBURG  # scenario 1's screening
from workflows import search_attributes as sa
from workflows.case import RUN_EVENTS, CaseWorkflow


def contact(day) -> dict:
    return {"kind": "contact", "contacted_on": day.isoformat()}


async def open_and_plan(case: CaseDriver, screening: dict = SCREENING_TILBURG) -> None:
    """The first month: contact with the prison, screening, the plan agreed."""
    start = await case.now()
    await case.sleep_until(start + timedelta(days=5))
    await case.complete("contact_prison", contact(await case.today()))
    await case.sleep_until(start + timedelta(days=10))
    await case.complete("screening", {"kind": "screening", "conditions": screening})
    await case.sleep_until(start + timedelta(days=27))
    await case.complete("reintegration_plan", {"kind": "plan", "agreed_on": (await case.today()).isoformat()})


def expect_rejection(err: pytest.ExceptionInfo, error_type: str) -> None:
    assert isinstance(err.value, WorkflowUpdateFailedError)
    assert isinstance(err.value.cause, ApplicationError)
    assert err.value.cause.type == error_type


async def test_ordinary_course(env, cases):
    """1. Tilburg, 7 months: plan in week 4, ID, benefit, housing in order by release,
    contact after release, check-ins at 4, 13 and 26 weeks, closed."""
    today = local_date(await env.get_current_time())
    case = await cases(notice(today, release_in=timedelta(weeks=30)))
    release = today + timedelta(weeks=30)
    assert (await case.state()).phase == Phase.NOTIFIED

    await open_and_plan(case)
    state = await case.state()
    assert state.phase == Phase.PREPARING_RELEASE
    keys = {t.key for t in state.tasks}
    assert {"id_document", "benefit_application", "benefit_decision", "housing", "debt_inventory"} <= keys
    assert not keys & {"care", "work_daytime", "social_network"}, "no tasks without consent or when in order"
    # Planned backwards: the ID is due in time for the application it is needed for.
    assert state.task("id_document").due == as_datetime(release) - timedelta(weeks=9)
    assert state.task("benefit_application").due == as_datetime(release) - timedelta(weeks=8)
    assert state.task("id_document").due_reason == "own deadline"
    assert state.task("benefit_decision").due is None, "due only once the application is in"
    assert state.at_risk_count == 0

    with pytest.raises(WorkflowUpdateFailedError) as err:
        await case.complete("benefit_application", {"kind": "benefit_application", "submitted_on": today.isoformat()})
    expect_rejection(err, ErrorType.PREREQUISITES_OPEN)

    await case.sleep_until(release - timedelta(weeks=10))
    ready = await case.today()
    await case.complete("id_document", {"kind": "id_document", "document": "identity_card", "ready_on": str(ready)})
    await case.sleep_until(release - timedelta(weeks=9))
    applied = await case.today()
    await case.complete("benefit_application", {"kind": "benefit_application", "submitted_on": str(applied)})
    decision = await case.task("benefit_decision")
    assert decision.due == as_datetime(applied) + timedelta(weeks=8)

    # No decision after 4 weeks: a task to check the advance appears.
    await case.sleep_until(applied + timedelta(weeks=4, days=1))
    assert (await case.task("benefit_advance")).status == TaskStatus.OPEN
    await case.complete("benefit_advance", {"kind": "advance", "advance_paid": True})
    await case.sleep_until(applied + timedelta(weeks=6))
    decided = await case.today()
    await case.complete(
        "benefit_decision", {"kind": "benefit_decision", "decision": "granted", "decided_on": str(decided)}
    )

    await case.sleep_until(release - timedelta(weeks=2, days=1))
    await case.complete("housing", {"kind": "note", "note": "woning via corporatie"})
    await case.complete("debt_inventory")
    state = await case.state()
    assert state.overdue_count == 0
    assert [n.task_key for n in state.notifications if n.level != EscalationLevel.REMINDER] == []

    await case.sleep_until(release)
    await case.event({"type": "released", "released_on": str(release)})
    state = await case.state()
    assert state.phase == Phase.RELEASED and not state.release_unexpected
    assert state.task("aftercare_contact").due == as_datetime(release) + timedelta(days=3)

    await case.sleep_until(release + timedelta(days=2))
    await case.complete("aftercare_contact", contact(await case.today()))
    for weeks, key in ((4, "checkin_4w"), (13, "checkin_13w"), (26, "checkin_26w")):
        await case.sleep_until(release + timedelta(weeks=weeks) - timedelta(hours=1))
        await case.complete(key)
    summary = await case.handle.result()
    assert summary.phase == Phase.CLOSED
    assert summary.closed_reason == ClosedReason.AFTERCARE_COMPLETED
    # Seven months in runs of one phase and at most RUN_EVENTS each (and the events of
    # the pass that crossed it): what a worker replays to pick the case up stays small.
    runs = await run_histories(case.client, case.handle.id)
    phases = {"notified", "planning", "preparing_release", "released"}
    assert len(runs) >= len(phases), [len(r.events) for r in runs]
    assert max(len(r.events) for r in runs) <= RUN_EVENTS + 60, [len(r.events) for r in runs]
    await case.keep_history("ordinary_course")


async def test_escalation_ladder(env, cases):
    """2. Nobody picks up the contact task: reminder, overdue to the supervisor, then to
    the coordinator; the coordinator reassigns it."""
    case = await cases(notice(local_date(await env.get_current_time())))
    state = await case.state()
    due = state.task("contact_prison").due
    assert due == state.notified_at + timedelta(days=7)

    state = await case.eventually(lambda s: s.task("contact_prison").escalation_level == EscalationLevel.REMINDER)
    assert not state.task("contact_prison").overdue

    await case.sleep_until(due + timedelta(minutes=1))
    state = await case.state()
    task = state.task("contact_prison")
    assert task.overdue and task.escalation_level == EscalationLevel.SUPERVISOR
    assert state.overdue_count == 1
    described = await case.handle.describe()
    assert described.typed_search_attributes.get(sa.OVERDUE_COUNT) == 1
    assert described.typed_search_attributes.get(sa.MUNICIPALITY) == "0855"

    await case.sleep_until(due + timedelta(days=7, minutes=1))
    state = await case.eventually(lambda s: len(s.notifications) >= 3)
    assert state.task("contact_prison").escalation_level == EscalationLevel.COORDINATOR
    contact_notices = [(n.level, n.recipient_role) for n in state.notifications if n.task_key == "contact_prison"]
    assert contact_notices == [
        (EscalationLevel.REMINDER, "team"),
        (EscalationLevel.SUPERVISOR, "supervisor"),
        (EscalationLevel.COORDINATOR, "coordinator"),
    ]

    await case.assign("contact_prison", assignee="bram")
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await case.complete("contact_prison", contact(await case.today()), actor="anna")
    expect_rejection(err, ErrorType.TASK_ASSIGNED_TO_OTHER)
    done = await case.complete("contact_prison", contact(await case.today()), actor="bram")
    assert done.status == TaskStatus.COMPLETED and done.completed_by == "bram"
    state = await case.state()
    assert not state.task("contact_prison").overdue and state.phase == Phase.PLANNING
    await case.keep_history("escalation_ladder")


async def test_release_moves_earlier(env, cases):
    """3. Conditional release: from 20 to 7 weeks away. Due dates move; ID plus an 8-week
    benefit decision cannot make it, and the chain is flagged at once, with the reason."""
    today = local_date(await env.get_current_time())
    case = await cases(notice(today, release_in=timedelta(weeks=20)))
    await case.complete("screening", {"kind": "screening", "conditions": SCREENING_TILBURG})
    state = await case.state()
    assert state.at_risk_count == 0

    earlier = today + timedelta(weeks=7)
    await case.event({"type": "expected_release_changed", "expected_release": str(earlier), "reason": "v.i."})
    state = await case.state()
    assert state.expected_release == earlier
    assert state.task("id_document").due == as_datetime(earlier) - timedelta(weeks=9)
    assert state.task("housing").due == as_datetime(earlier) - timedelta(weeks=2)
    decision = state.task("benefit_decision")
    assert decision.at_risk and "benefit_decision cannot be done before" in decision.at_risk_reason
    assert state.task("id_document").at_risk and state.task("benefit_application").at_risk
    assert state.task("benefit_application").at_risk_reason == decision.at_risk_reason
    assert not state.task("housing").at_risk, "two weeks of housing work still fit"
    assert state.task("benefit_application").overdue, "eight weeks before a release seven weeks away has passed"
    described = await case.handle.describe()
    assert described.typed_search_attributes.get(sa.AT_RISK_COUNT) == state.at_risk_count
    await case.keep_history("release_moves_earlier")


async def test_release_moves_later_lets_the_ladder_run_again(env, cases):
    today = local_date(await env.get_current_time())
    case = await cases(notice(today, release_in=timedelta(weeks=8, days=4)))
    await case.complete("screening", {"kind": "screening", "conditions": SCREENING_TILBURG})
    assert (await case.task("id_document")).escalation_level == EscalationLevel.SUPERVISOR
    await case.event({"type": "expected_release_changed", "expected_release": str(today + timedelta(weeks=30))})
    task = await case.task("id_document")
    assert task.escalation_level == EscalationLevel.NONE and not task.overdue


async def test_short_stay(env, cases):
    """4. Preventive custody of 9 days: no plan, a triage on day one, then aftercare."""
    today = local_date(await env.get_current_time())
    case = await cases(notice(today, release_in=timedelta(days=9)))
    state = await case.state()
    assert state.short_stay
    keys = {t.key for t in state.tasks}
    assert keys == {"contact_prison", "short_stay_triage"}
    assert state.task("short_stay_triage").due == state.notified_at + timedelta(days=1)

    await case.sleep_until(state.notified_at + timedelta(hours=20))
    await case.complete("short_stay_triage", {"kind": "note", "note": "huur doorbetaald, uitkering opgeschort"})
    await case.complete("contact_prison", contact(await case.today()))
    assert (await case.state()).phase == Phase.PREPARING_RELEASE
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await case.event({"type": "plan_agreed", "agreed_on": str(today)})
    expect_rejection(err, ErrorType.EVENT_NOT_POSSIBLE)

    await case.sleep_until(today + timedelta(days=9))
    await case.event({"type": "released", "released_on": str(today + timedelta(days=9))})
    state = await case.state()
    assert state.phase == Phase.RELEASED
    assert state.task("aftercare_contact").status == TaskStatus.OPEN
    await case.keep_history("short_stay")


async def test_unexpected_release(env, cases):
    """5. Custody lifted by the court, 14 weeks early: open pre-release tasks go into an
    immediate triage; contact within 3 days."""
    today = local_date(await env.get_current_time())
    case = await cases(notice(today, release_in=timedelta(weeks=20)))
    await open_and_plan(case)
    await case.sleep_until(today + timedelta(weeks=6))
    released = await case.today()
    await case.event({"type": "released", "released_on": str(released)})
    state = await case.state()
    assert state.release_unexpected
    triaged = [t for t in state.tasks if t.triage]
    assert {t.key for t in triaged} == {"id_document", "benefit_application", "housing", "debt_inventory"}
    triaged_at = next(h.at for h in state.history if h.action == "pre_release_tasks_triaged")
    assert all(t.status == TaskStatus.OPEN and t.due == triaged_at + timedelta(days=1) for t in triaged)
    assert state.task("aftercare_contact").due == as_datetime(released) + timedelta(days=3)
    assert state.task("benefit_decision").triage is False, "the decision still follows its application"
    await case.keep_history("unexpected_release")


async def test_back_inside(env, cases):
    """6. Detained again six weeks after release: the old case closes as re-detained and
    the new case links to it."""
    today = local_date(await env.get_current_time())
    first = notice(today, release_in=timedelta(days=9))
    old = await cases(first)
    await old.sleep_until(today + timedelta(days=9))
    await old.event({"type": "released", "released_on": str(today + timedelta(days=9))})
    await old.sleep_until(today + timedelta(days=9, weeks=6))

    again = notice(await old.today(), release_in=timedelta(weeks=12))
    again = again.model_copy(update={"person": first.person})
    new = await cases(again)
    await old.event({"type": "re_detained", "new_detention_id": again.detention_id})
    summary = await old.handle.result()
    assert summary.closed_reason == ClosedReason.RE_DETAINED
    state = await old.state()
    assert state.next_case_id == again.case_id
    assert all(t.status != TaskStatus.OPEN for t in state.tasks)
    linked = await new.eventually(lambda s: s.previous_case_id is not None)
    assert linked.previous_case_id == first.case_id
    await old.keep_history("back_inside")


async def test_back_inside_reported_before_the_new_notice(env, cases):
    """6, the other order: the re-detention is reported before the new day-one notice. The
    old case waits, open; when the notice of the same person arrives, the old case closes
    as re-detained and the new one links to it."""
    today = local_date(await env.get_current_time())
    first = notice(today, release_in=timedelta(weeks=10))
    old = await cases(first)
    again = notice(today + timedelta(days=1), release_in=timedelta(weeks=12))
    again = again.model_copy(update={"person": first.person})
    await old.sleep_until(today + timedelta(days=1))
    await old.event({"type": "re_detained", "new_detention_id": again.detention_id})
    state = await old.state()
    assert state.phase != Phase.CLOSED and state.next_case_id == again.case_id
    assert "waiting_for_next_case" in [h.action for h in state.history]

    new = await cases(again)
    summary = await old.handle.result()
    assert summary.closed_reason == ClosedReason.RE_DETAINED
    linked = await new.eventually(lambda s: s.previous_case_id is not None)
    assert linked.previous_case_id == first.case_id
    assert [h.action for h in linked.history].count("previous_case_linked") == 1
    await old.keep_history("back_inside_reported_first")


async def test_a_re_detention_closes_nothing_of_another_person(env, cases):
    """A re-detention naming a detention of someone else is refused, the case unchanged;
    one naming a detention that then turns out to be someone else's leaves it waiting."""
    today = local_date(await env.get_current_time())
    first = notice(today, release_in=timedelta(weeks=10))
    old = await cases(first)
    stranger = await cases(notice(today))
    before = (await old.state()).revision
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await old.event({"type": "re_detained", "new_detention_id": stranger.notice.detention_id})
    expect_rejection(err, ErrorType.NOTICE_CONFLICT)
    state = await old.state()
    assert state.revision == before and state.next_case_id is None and state.phase != Phase.CLOSED

    mistyped = notice(today)
    await old.event({"type": "re_detained", "new_detention_id": mistyped.detention_id})
    other = await cases(mistyped)
    # Time skips only once the new case's activities are done: its check has been made.
    await env.sleep(timedelta(hours=1))
    checked = await other.state()
    assert checked.previous_case_checked and checked.previous_case_id is None
    state = await old.state()
    assert state.phase != Phase.CLOSED and state.next_case_id == mistyped.case_id


async def test_moves_away(env, cases):
    """7. Registers in Breda before release: a transfer task, then closed as moved."""
    case = await cases(notice(local_date(await env.get_current_time())))
    await case.event({"type": "moved", "municipality": "0758"}, actor="anna")
    transfer = await case.task("transfer")
    assert transfer.status == TaskStatus.OPEN
    await case.complete("transfer", {"kind": "note", "note": "warm overgedragen"})
    summary = await case.handle.result()
    assert summary.closed_reason == ClosedReason.MOVED
    state = await case.state()
    assert state.moved_to == "0758"
    assert state.task("screening").status == TaskStatus.CANCELLED
    await case.keep_history("moves_away")


async def test_declines_support(env, cases):
    """8a. The person declines municipal support: the case closes with that reason."""
    case = await cases(notice(local_date(await env.get_current_time())))
    await case.event({"type": "declined", "note": "wil geen hulp"}, actor="anna")
    summary = await case.handle.result()
    assert summary.closed_reason == ClosedReason.DECLINED
    with pytest.raises(RPCError) as err:  # the API answers 409: tests/api
        await case.handle.execute_update(
            CaseWorkflow.complete_task, CompleteTaskInput(task_key="contact_prison", actor="anna")
        )
    assert err.value.status == RPCStatusCode.NOT_FOUND
    await case.keep_history("declines_support")


async def test_consent_withdrawn(env, cases):
    """8b. Consent for debts is withdrawn: debt tasks are cancelled and what was recorded
    about debts is removed."""
    today = local_date(await env.get_current_time())
    case = await cases(notice(today, release_in=timedelta(weeks=30)))
    await case.complete("screening", {"kind": "screening", "conditions": SCREENING_TILBURG})
    await case.complete("debt_inventory", {"kind": "note", "note": "drie schuldeisers, CJIB-boete"})
    await case.event({"type": "consent_given", "condition": "care"}, actor="anna")
    assert (await case.task("care")).status == TaskStatus.OPEN

    await case.event({"type": "consent_withdrawn", "condition": "debts"}, actor="anna")
    state = await case.state()
    assert state.screening["debts"] == "no_consent"
    debt = state.task("debt_inventory")
    assert debt.outcome is None, "nothing about debts stays recorded"
    await case.event({"type": "consent_withdrawn", "condition": "care"}, actor="anna")
    assert (await case.task("care")).status == TaskStatus.CANCELLED
    await case.keep_history("consent_withdrawn")


async def test_rejected_updates_leave_no_trace(env, cases):
    """Rejected before history: no update is accepted and the case does not change. (The
    real server writes no event at all; tests/api checks that on a dev server.)"""
    case = await cases(notice(local_date(await env.get_current_time())))
    await case.eventually(lambda s: len(s.notifications) == 1)  # the reminder of the contact task
    before_updates, before_revision = await case.accepted_updates(), (await case.state()).revision
    today = await case.today()
    rejected = [
        (case.complete("no_such_task"), ErrorType.TASK_NOT_FOUND),
        (case.complete("reintegration_plan", {"kind": "plan", "agreed_on": str(today)}), ErrorType.PREREQUISITES_OPEN),
        (case.complete("contact_prison"), ErrorType.INVALID_OUTCOME),
        (case.complete("contact_prison", {"kind": "plan", "agreed_on": str(today)}), ErrorType.INVALID_OUTCOME),
        (case.complete("contact_prison", contact(today + timedelta(days=3))), ErrorType.INVALID_OUTCOME),
        (case.event({"type": "released", "released_on": str(today + timedelta(days=1))}), ErrorType.INVALID_EVENT),
        (case.event({"type": "moved", "municipality": "0855"}), ErrorType.EVENT_NOT_POSSIBLE),
    ]
    for call, error_type in rejected:
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await call
        expect_rejection(err, error_type)
    assert await case.accepted_updates() == before_updates
    assert (await case.state()).revision == before_revision


async def test_duplicate_notice_is_one_case(env, cases):
    n = notice(local_date(await env.get_current_time()))
    case = await cases(n)
    first_run = (await case.handle.describe()).run_id
    again = await start_case(env.client, n, policy=load_policy(), task_queue=case.task_queue)
    assert again.case_id == n.case_id and not again.created
    assert (await case.state()).notices_received == 2
    await case.event({"type": "declined"}, actor="anna")
    await case.handle.result()
    after_close = await start_case(env.client, n, policy=load_policy(), task_queue=case.task_queue)
    assert after_close.case_id == n.case_id and not after_close.created
    assert (await case.handle.describe()).run_id == first_run, "a closed case is not started again"


async def test_training_policy_in_seconds_is_pinned_by_the_case(env, cases):
    data = yaml.safe_load(DEFAULT_POLICY_PATH.read_text())
    data["version"] = "training-seconds"
    data["escalation"] = {"reminder_before_due": "PT10S", "coordinator_after_due": "PT30S"}
    data["tasks"][0]["offset"] = "PT60S"
    training = parse_policy(yaml.safe_dump(data))
    case = await cases(notice(local_date(await env.get_current_time())), training)
    state = await case.state()
    assert state.policy.version == "training-seconds"
    assert state.task("contact_prison").due == state.notified_at + timedelta(seconds=60)

    await case.sleep_until(state.notified_at + timedelta(seconds=61))
    assert (await case.task("contact_prison")).escalation_level == EscalationLevel.SUPERVISOR
    await case.sleep_until(state.notified_at + timedelta(seconds=91))
    assert (await case.task("contact_prison")).escalation_level == EscalationLevel.COORDINATOR
    other = await cases(notice(local_date(await env.get_current_time())))
    assert (await other.state()).policy.version == load_policy().version
    assert (await case.state()).policy.version == "training-seconds"


async def test_a_case_continued_as_new_keeps_its_state(env, cases, task_queue):
    """Continue-as-new passes the whole state: a run started from it carries on, with
    its tasks, history, revision and timers, and does not start the case over."""
    today = local_date(await env.get_current_time())
    case = await cases(notice(today))
    await case.complete("contact_prison", contact(today))
    state = await case.state()

    carried = StartCaseInput(notice=state.notice, state=state)
    handle = await env.client.start_workflow(
        CaseWorkflow.run, carried, id=f"{state.case_id}-continued", task_queue=task_queue
    )
    continued = await handle.query(CaseWorkflow.state)
    assert continued.task("contact_prison").status == TaskStatus.COMPLETED
    assert [h.action for h in continued.history].count("case_started") == 1
    assert continued.revision >= state.revision and continued.phase == Phase.PLANNING
    driver = CaseDriver(env, handle, state.notice, task_queue)
    driver.notified_at = state.notified_at
    await driver.sleep_until(today + timedelta(days=15))
    continued = await handle.query(CaseWorkflow.state)
    assert continued.task("screening").escalation_level == EscalationLevel.SUPERVISOR
    await driver.event({"type": "declined"}, actor="test")
    await handle.result()

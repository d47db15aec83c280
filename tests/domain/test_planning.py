"""Deadlines that plan backwards: a task is due in time for the tasks that need it."""

from __future__ import annotations

from datetime import date, timedelta

import yaml

from domain import planning
from domain.models import BasicCondition, CaseState, ScreeningStatus, TaskStatus, as_datetime, local_date
from domain.policy import chain_warnings, parse_policy
from tests.domain.test_policy import default_data
from tests.helpers import notice

TODAY = date(2026, 12, 3)


def case(policy_data: dict | None = None, release_in: timedelta = timedelta(weeks=20)) -> CaseState:
    data = policy_data or default_data()
    n = notice(TODAY, release_in=release_in)
    state = CaseState(
        case_id=n.case_id,
        notice=n,
        policy=parse_policy(yaml.safe_dump(data)),
        notified_at=as_datetime(TODAY),
        expected_release=n.expected_release,
        prison=n.prison,
    )
    state.screening = {c: ScreeningStatus.NEEDS_ACTION for c in BasicCondition}
    planning.materialize_tasks(state, as_datetime(TODAY))
    planning.reschedule(state)
    return state


def due(state: CaseState, key: str) -> date:
    task = state.task(key)
    assert task is not None and task.due is not None, key
    return local_date(task.due)


def the_old_id_deadline() -> dict:
    """The default policy as it was: the ID due 4 weeks before release, the application 8."""
    data = default_data()
    next(t for t in data["tasks"] if t["key"] == "id_document")["offset"] = "-P4W"
    return data


def test_a_prerequisite_is_due_in_time_for_the_task_that_needs_it():
    state = case(the_old_id_deadline())
    release = state.expected_release
    # The application is due 8 weeks before release and takes a day; the ID must be there first.
    assert due(state, "benefit_application") == release - timedelta(weeks=8)
    assert due(state, "id_document") == release - timedelta(weeks=8, days=1)
    assert state.task("id_document").due_reason == (
        f"needed for benefit_application (due {(release - timedelta(weeks=8)).isoformat()})"
    )
    assert state.task("benefit_application").due_reason == "own deadline"
    assert chain_warnings(state.policy) == [
        "id_document is due 4 weeks before the release, but benefit_application needs it done 57 days before"
        " the release: cases plan it then"
    ]


def test_the_default_policy_says_what_the_plan_does():
    state = case()
    assert chain_warnings(state.policy) == []
    assert all(t.due_reason == "own deadline" for t in state.tasks if t.due is not None)
    # The ID is due before the application, which leaves the decision its 8 weeks.
    assert due(state, "id_document") < due(state, "benefit_application") <= state.expected_release - timedelta(weeks=8)


def test_a_chain_of_three_counts_each_tasks_work():
    data = default_data()
    data["tasks"] = [t for t in data["tasks"] if t["key"] not in ("id_document", "benefit_application")] + [
        {"key": "a", "title": "A", "team": "casemanagers", "anchor": "expected_release", "offset": "P0D",
         "guidance": "a"},
        {"key": "b", "title": "B", "team": "casemanagers", "anchor": "expected_release", "offset": "P0D",
         "takes": "P2W", "prerequisites": ["a"], "guidance": "b"},
        {"key": "c", "title": "C", "team": "casemanagers", "anchor": "expected_release", "offset": "-P1W",
         "takes": "P3D", "prerequisites": ["b"], "guidance": "c"},
    ]  # fmt: skip
    for template in data["tasks"]:
        if template["key"] in ("benefit_decision", "benefit_advance"):
            template["anchor_task"] = "c"
            template["prerequisites"] = [p for p in template.get("prerequisites", []) if p != "benefit_application"]
    state = case(data)
    release = state.expected_release
    assert due(state, "c") == release - timedelta(weeks=1)
    assert due(state, "b") == release - timedelta(weeks=1, days=3)
    assert due(state, "a") == release - timedelta(weeks=3, days=3)
    assert state.task("a").due_reason.startswith("needed for b (due ")


def test_a_release_that_moves_earlier_replans_the_chain_and_a_done_dependent_lets_go():
    state = case(the_old_id_deadline())
    earlier = state.expected_release - timedelta(weeks=6)
    state.expected_release = earlier
    planning.reschedule(state)
    assert due(state, "id_document") == earlier - timedelta(weeks=8, days=1)
    # Three days before the application is due, with the ID (a week's work) still open, the
    # chain can no longer be made: both are flagged.
    planning.assess_risk(state, as_datetime(due(state, "benefit_application") - timedelta(days=3)))
    assert state.task("benefit_application").at_risk and state.task("id_document").at_risk
    # Done another way (the application went in without this task): the ID goes back to its own date.
    state.task("benefit_application").status = TaskStatus.NOT_APPLICABLE
    planning.reschedule(state)
    assert due(state, "id_document") == earlier - timedelta(weeks=4)
    assert state.task("id_document").due_reason == "own deadline"

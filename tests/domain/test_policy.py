import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
import yaml
from pydantic import ValidationError

from domain import planning
from domain.follow_up import next_working_day_at
from domain.models import LOCAL_TIME, CaseState, Phase, TaskStatus
from domain.policy import DEFAULT_POLICY_PATH, Policy, TaskRoles, load_policy, parse_policy
from tests.helpers import notice


def default_data() -> dict:
    return yaml.safe_load(DEFAULT_POLICY_PATH.read_text())


def rename_task(data: dict, old: str, new: str) -> dict:
    """Rename a task and every reference to it among the tasks, as a policy author would."""
    for t in data["tasks"]:
        t["key"] = new if t["key"] == old else t["key"]
        for field in ("prerequisites", "obsolete_when_completed"):
            t[field] = [new if k == old else k for k in t.get(field, [])]
        if t.get("anchor_task") == old:
            t["anchor_task"] = new
    return data


ROLES = {
    "first_contact": ("contact_prison", "marks the first contact with the prison (phase tracking"),
    "screening": ("screening", "is the screening of the basic conditions"),
    "plan": ("reintegration_plan", "is the D&R plan (phase tracking"),
    "short_stay_triage": ("short_stay_triage", "is the triage of a short stay (phase tracking"),
    "handover": ("transfer", "hands the case over after a move"),
}


def test_default_policy_encodes_the_dutch_deadlines():
    policy = load_policy()
    t = {template.key: template for template in policy.tasks}
    assert t["contact_prison"].offset == timedelta(days=7)
    assert t["screening"].offset == timedelta(days=14)
    assert t["reintegration_plan"].offset == timedelta(days=28) and t["reintegration_plan"].stay == "long"
    assert policy.short_stay_max == timedelta(days=10)
    assert t["id_document"].offset == -timedelta(weeks=9) and t["id_document"].takes == timedelta(weeks=1)
    assert t["benefit_application"].offset == -timedelta(weeks=8)
    assert t["benefit_application"].prerequisites == ["id_document"]
    assert t["benefit_decision"].offset == timedelta(weeks=8) and t["benefit_decision"].needed_by_release
    assert t["benefit_advance"].opens_after == timedelta(weeks=4)
    assert t["housing"].offset == t["care"].offset == -timedelta(weeks=2)
    assert [t[k].offset for k in ("checkin_4w", "checkin_13w", "checkin_26w")] == [
        timedelta(weeks=4),
        timedelta(weeks=13),
        timedelta(weeks=26),
    ]
    assert policy.escalation.reminder_before_due == policy.escalation.coordinator_after_due == timedelta(days=7)
    assert all(template.guidance for template in policy.tasks), "every task carries guidance"


def test_durations_in_seconds_for_training():
    data = default_data()
    data["tasks"][0]["offset"] = "PT30S"
    assert parse_policy(yaml.safe_dump(data)).tasks[0].offset == timedelta(seconds=30)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["tasks"][3]["prerequisites"].append("make_coffee"), "refers to unknown task 'make_coffee'"),
        (lambda d: d["tasks"].append(dict(d["tasks"][0])), "task keys used twice: contact_prison"),
        (lambda d: d["tasks"][6].pop("anchor_task"), "anchor_task is needed exactly when anchor is task_completed"),
        (lambda d: d["tasks"][0].update(offset="a week"), "offset"),
        (lambda d: d["tasks"][0].update(colour="blue"), "colour"),
        (lambda d: d.pop("escalation"), "escalation"),
        (
            lambda d: d.update(tasks=[t for t in d["tasks"] if t.get("on_event") != "registration_check_failed"]),
            "needs a task on_event registration_check_failed",
        ),
        (lambda d: d.update(registration_check_within="-P1D"), "registration_check_within must be positive"),
        (
            lambda d: d.update(tasks=[t for t in d["tasks"] if t.get("on_event") != "benefit_follow_up_failed"]),
            "needs a task on_event benefit_follow_up_failed",
        ),
        (
            lambda d: d["income_follow_up"].update(unavailable_within="PT0S"),
            "unavailable_within must be positive",
        ),
        (
            lambda d: d.update(tasks=[t for t in d["tasks"] if t.get("on_event") != "id_appointment_follow_up_failed"]),
            "needs a task on_event id_appointment_follow_up_failed",
        ),
        (
            lambda d: d["civil_affairs_follow_up"].update(unavailable_within="PT0S"),
            "civil_affairs_follow_up.unavailable_within must be positive",
        ),
        (
            lambda d: d["probation_advice"].update(unavailable_within="PT0S"),
            "probation_advice.unavailable_within must be positive",
        ),
    ],
)
def test_a_broken_policy_says_what_is_wrong(change, message):
    data = default_data()
    change(data)
    with pytest.raises(ValidationError, match=message):
        parse_policy(yaml.safe_dump(data))


def test_the_registration_check_waits_a_day_and_older_policies_do_without_it():
    policy = load_policy()
    assert policy.registration_check_within == timedelta(days=1)
    manual = policy.template("check_registration_manually")
    assert manual is not None and manual.on_event == "registration_check_failed" and manual.outcome == "note"
    # A policy from before the check, as a running case has it pinned: it parses, and does not check.
    data = default_data()
    data["version"] = "nl-default-2026.1"
    data.pop("registration_check_within")
    data["tasks"] = [t for t in data["tasks"] if t["key"] != "check_registration_manually"]
    assert parse_policy(yaml.safe_dump(data)).registration_check_within is None


def test_benefit_applications_are_followed_daily_and_older_policies_do_without_it():
    policy = load_policy()
    assert policy.income_follow_up is not None
    assert policy.income_follow_up.read_at == time(8, 0)
    assert policy.income_follow_up.unavailable_within == timedelta(days=3)
    check = policy.template("check_benefit_application")
    assert check is not None and check.on_event == "benefit_follow_up_failed" and check.condition == "income"
    data = default_data()
    data["version"] = "nl-default-2026.2"
    data.pop("income_follow_up")
    data["tasks"] = [t for t in data["tasks"] if t["key"] != "check_benefit_application"]
    assert parse_policy(yaml.safe_dump(data)).income_follow_up is None


def test_id_documents_are_followed_daily_and_older_policies_do_without_it():
    policy = load_policy()
    assert policy.civil_affairs_follow_up is not None
    assert policy.civil_affairs_follow_up.read_at == time(8, 0)
    assert policy.civil_affairs_follow_up.unavailable_within == timedelta(days=2)
    check = policy.template("check_id_appointment")
    assert (
        check is not None and check.on_event == "id_appointment_follow_up_failed" and check.condition == "id_document"
    )
    data = default_data()
    data["version"] = "nl-default-2026.3"
    data.pop("civil_affairs_follow_up")
    data["tasks"] = [t for t in data["tasks"] if t["key"] != "check_id_appointment"]
    assert parse_policy(yaml.safe_dump(data)).civil_affairs_follow_up is None


def test_probation_is_asked_daily_and_older_policies_do_without_it():
    policy = load_policy()
    assert policy.probation_advice is not None
    assert policy.probation_advice.read_at == time(8, 0)
    assert policy.probation_advice.unavailable_within == timedelta(days=5)
    data = default_data()
    data["version"] = "nl-default-2026.4"
    data.pop("probation_advice")
    assert parse_policy(yaml.safe_dump(data)).probation_advice is None


def test_the_default_policy_names_the_tasks_the_case_relies_on():
    policy = load_policy()
    assert set(TaskRoles.model_fields) == set(ROLES), "every role is tested below"
    assert {role: getattr(policy.roles, role) for role in ROLES} == {role: key for role, (key, _) in ROLES.items()}
    # A policy from before roles existed, as a running case has it pinned (or a
    # municipality's copy of an older default): the same tasks play the same parts.
    data = default_data()
    data.pop("roles")
    assert parse_policy(yaml.safe_dump(data)).roles == policy.roles


@pytest.mark.parametrize("role", ROLES)
def test_an_override_that_renames_a_task_the_case_relies_on_does_not_load(role):
    key, purpose = ROLES[role]
    data = rename_task(default_data(), key, "renamed_task")
    with pytest.raises(ValidationError) as err:
        parse_policy(yaml.safe_dump(data))
    [error] = err.value.errors()
    assert f"the policy has no task {key!r}, which {purpose}" in error["msg"]
    assert f"rename it back, or name the task that does under roles: {role}" in error["msg"]


@pytest.mark.parametrize("role", ROLES)
def test_an_override_without_a_task_the_case_relies_on_names_it(role):
    """Left out of the roles too: the role's default task is named."""
    key, purpose = ROLES[role]
    data = default_data()
    data.pop("roles")
    data["tasks"] = [t for t in data["tasks"] if t["key"] != key]
    for t in data["tasks"]:
        t["prerequisites"] = [k for k in t.get("prerequisites", []) if k != key]
    with pytest.raises(ValidationError, match=re.escape(f"the policy has no task {key!r}, which {purpose}")):
        parse_policy(yaml.safe_dump(data))


def test_a_case_pinned_to_a_policy_without_a_roles_task_reads_it_back():
    """An override from before roles were checked, as a running case has it pinned:
    the workflow reads it back (as the data converter does), only loading it anew fails."""
    data = default_data()
    data.pop("roles")
    data["tasks"] = [t for t in data["tasks"] if t["key"] != "short_stay_triage"]
    pinned = Policy.model_validate(data).model_dump_json()
    assert Policy.model_validate_json(pinned).roles.short_stay_triage == "short_stay_triage"
    with pytest.raises(ValidationError, match="the policy has no task 'short_stay_triage'"):
        parse_policy(yaml.safe_dump(data))


def test_roles_that_name_a_task_the_policy_lacks_do_not_load():
    data = default_data()
    data["roles"]["plan"] = "dr_plan"
    with pytest.raises(ValidationError, match="the policy has no task 'dr_plan', which is the D&R plan"):
        parse_policy(yaml.safe_dump(data))
    data["roles"] = {"first_contact": "contact_prison", "triage": "short_stay_triage"}
    with pytest.raises(ValidationError, match="roles.triage"):
        parse_policy(yaml.safe_dump(data))


@pytest.mark.parametrize(
    ("role", "key", "message"),
    [
        ("screening", "housing", "roles.screening: task 'housing', .* needs outcome: screening, not note"),
        ("plan", "contact_prison", "roles.plan: task 'contact_prison', .* needs outcome: plan, not contact"),
        ("handover", "aftercare_contact", "roles.handover: task 'aftercare_contact', .* needs on_event: moved"),
    ],
)
def test_a_role_goes_to_a_task_that_can_play_it(role, key, message):
    data = default_data()
    data["roles"][role] = key
    with pytest.raises(ValidationError, match=message):
        parse_policy(yaml.safe_dump(data))


def test_renamed_tasks_named_under_roles_move_the_case_on():
    data = default_data()
    for old, new in [("contact_prison", "contact_pi"), ("reintegration_plan", "dr_plan"), ("transfer", "handover")]:
        rename_task(data, old, new)
    data["roles"].update(first_contact="contact_pi", plan="dr_plan", handover="handover")
    policy = parse_policy(yaml.safe_dump(data))
    now = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
    n = notice(now.date())
    state = CaseState(case_id=n.case_id, notice=n, policy=policy, notified_at=now, prison=n.prison)
    planning.materialize_tasks(state, now)

    def done(key: str) -> None:
        state.task(key).status = TaskStatus.COMPLETED
        state.phase = planning.phase_for(state)

    done("contact_pi")
    assert state.phase == Phase.PLANNING
    done("dr_plan")
    assert state.phase == Phase.PREPARING_RELEASE
    state.moved_to = "0363"
    state.anchors[planning.event_anchor_key("moved")] = now
    planning.materialize_tasks(state, now)
    assert planning.closing_reason(state) is None
    done("handover")
    assert planning.closing_reason(state) == "moved"


def test_reads_fall_on_working_days_in_office_hours():
    friday_evening = datetime(2027, 1, 8, 18, 0, tzinfo=LOCAL_TIME)
    assert next_working_day_at(friday_evening, time(8, 0), LOCAL_TIME) == datetime(2027, 1, 11, 8, 0, tzinfo=LOCAL_TIME)
    tuesday_early = datetime(2027, 1, 12, 6, 0, tzinfo=LOCAL_TIME)
    assert next_working_day_at(tuesday_early, time(8, 0), LOCAL_TIME).date() == date(2027, 1, 13)

from datetime import timedelta

import pytest
import yaml
from pydantic import ValidationError

from domain.policy import DEFAULT_POLICY_PATH, load_policy, parse_policy


def default_data() -> dict:
    return yaml.safe_load(DEFAULT_POLICY_PATH.read_text())


def test_default_policy_encodes_the_dutch_deadlines():
    policy = load_policy()
    t = {template.key: template for template in policy.tasks}
    assert t["contact_prison"].offset == timedelta(days=7)
    assert t["screening"].offset == timedelta(days=14)
    assert t["reintegration_plan"].offset == timedelta(days=28) and t["reintegration_plan"].stay == "long"
    assert policy.short_stay_max == timedelta(days=10)
    assert t["id_document"].offset == -timedelta(weeks=4) and t["id_document"].takes == timedelta(weeks=1)
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
    ],
)
def test_a_broken_policy_says_what_is_wrong(change, message):
    data = default_data()
    change(data)
    with pytest.raises(ValidationError, match=message):
        parse_policy(yaml.safe_dump(data))

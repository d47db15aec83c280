"""Deadline planning: which tasks a case has, when they are due, what is overdue or at
risk, and when the case must wake up next. Pure functions of the case state and "now";
the workflow calls them with ``workflow.now()``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.models import (
    ESCALATION_ORDER,
    BasicCondition,
    CaseState,
    ClosedReason,
    EscalationLevel,
    Notification,
    Phase,
    ScreeningStatus,
    Task,
    TaskStatus,
    as_datetime,
    local_date,
)
from domain.policy import Anchor, Stay, TaskTemplate

ACTIONABLE = {ScreeningStatus.NEEDS_ACTION, ScreeningStatus.UNKNOWN}
PRE_RELEASE_ANCHORS = {Anchor.NOTIFICATION, Anchor.EXPECTED_RELEASE}


def task_anchor_key(task_key: str) -> str:
    return f"task:{task_key}"


def event_anchor_key(event: str) -> str:
    return f"event:{event}"


def anchor_instant(state: CaseState, template: TaskTemplate) -> datetime | None:
    """The instant a template's deadline counts from, or None while it is unknown."""
    match template.anchor:
        case Anchor.NOTIFICATION:
            return state.notified_at
        case Anchor.EXPECTED_RELEASE:
            return as_datetime(state.expected_release) if state.expected_release else None
        case Anchor.ACTUAL_RELEASE:
            return as_datetime(state.actual_release) if state.actual_release else None
        case Anchor.TASK_COMPLETED:
            return state.anchors.get(task_anchor_key(template.anchor_task or ""))
        case Anchor.EVENT:
            return state.anchors.get(event_anchor_key(template.on_event or ""))


def due_for(state: CaseState, template: TaskTemplate) -> datetime | None:
    start = anchor_instant(state, template)
    return start + template.offset if start is not None else None


def release_instant(state: CaseState) -> datetime | None:
    return as_datetime(state.expected_release) if state.expected_release else None


def _completed(state: CaseState, key: str) -> bool:
    task = state.task(key)
    return task is not None and task.status == TaskStatus.COMPLETED


def _applies(state: CaseState, template: TaskTemplate, now: datetime) -> bool:
    """Whether a template not yet in the case should become a task now."""
    if state.phase == Phase.CLOSED:
        return False
    if template.stay == Stay.LONG and state.short_stay:
        return False
    if template.stay == Stay.SHORT and not state.short_stay:
        return False
    if template.on_event and event_anchor_key(template.on_event) not in state.anchors:
        return False
    if template.condition and state.screening.get(BasicCondition(template.condition)) not in ACTIONABLE:
        return False
    if template.anchor == Anchor.ACTUAL_RELEASE and state.actual_release is None:
        return False
    if template.anchor in PRE_RELEASE_ANCHORS and state.actual_release is not None:
        return False
    if template.anchor == Anchor.TASK_COMPLETED and state.task(template.anchor_task or "") is None:
        return False
    if any(_completed(state, key) for key in template.obsolete_when_completed):
        return False
    if template.opens_after is not None:
        start = anchor_instant(state, template)
        if start is None or now < start + template.opens_after:
            return False
    return True


def new_task(state: CaseState, template: TaskTemplate, now: datetime) -> Task:
    return Task(
        key=template.key,
        title=template.title,
        condition=template.condition,
        team=template.team,
        due=due_for(state, template),
        prerequisites=list(template.prerequisites),
        outcome_kind=template.outcome,
        created_at=now,
        guidance=template.guidance,
    )


def materialize_tasks(state: CaseState, now: datetime) -> list[Task]:
    """Create the tasks the policy asks for and the case does not have yet."""
    created = []
    for template in state.policy.tasks:
        if state.task(template.key) is None and _applies(state, template, now):
            task = new_task(state, template, now)
            state.tasks.append(task)
            created.append(task)
    return created


def open_tasks(state: CaseState) -> list[Task]:
    return [t for t in state.tasks if t.status == TaskStatus.OPEN]


OWN_DEADLINE = "own deadline"


def _prospective(state: CaseState, template: TaskTemplate) -> bool:
    """Whether a template is, or can still become, an open task of this case: one not
    created yet whose stay and condition fit (an event's task cannot be foreseen)."""
    task = state.task(template.key)
    if task is not None:
        return task.status == TaskStatus.OPEN
    if state.actual_release is not None or template.on_event:
        return False
    if (template.stay == Stay.LONG and state.short_stay) or (template.stay == Stay.SHORT and not state.short_stay):
        return False
    if template.condition and state.screening.get(BasicCondition(template.condition)) not in ACTIONABLE:
        return False
    return not any(_completed(state, key) for key in template.obsolete_when_completed)


def _chain_deadline(state: CaseState, template: TaskTemplate, seen: frozenset[str]) -> datetime | None:
    """When a task must be done for the chain: its planned due date, or the release for
    what is needed by then (a benefit decision), whichever is earlier."""
    latest, _ = _latest(state, template, seen)
    if template.needed_by_release and state.actual_release is None:
        release = release_instant(state)
        if release is not None and (latest is None or release < latest):
            latest = release
    return latest


def _latest(
    state: CaseState, template: TaskTemplate, seen: frozenset[str] = frozenset()
) -> tuple[datetime | None, str | None]:
    """The latest a task may be done, and why: its own deadline, or the latest that still
    lets every open task that needs it meet its own, less the time that task's work
    takes, recursively along the chain."""
    latest, reason = due_for(state, template), OWN_DEADLINE
    for dependent in state.policy.tasks:
        if template.key not in dependent.prerequisites or dependent.key in seen or not _prospective(state, dependent):
            continue
        needed_by = _chain_deadline(state, dependent, seen | {template.key})
        if needed_by is None:
            continue
        if latest is None or needed_by - dependent.takes < latest:
            latest = needed_by - dependent.takes
            reason = f"needed for {dependent.key} (due {local_date(needed_by).isoformat()})"
    return latest, (reason if latest is not None else None)


def reschedule(state: CaseState) -> None:
    """Plan every open task's due date backwards: the earlier of its own deadline and the
    latest that still lets the tasks that need it meet theirs. A moved release date moves
    the whole chain; a dependent done or dropped lets its prerequisites go back."""
    for task in open_tasks(state):
        template = state.policy.template(task.key)
        if template is not None and not task.triage:
            task.due, task.due_reason = _latest(state, template)


def retire_obsolete(state: CaseState, now: datetime) -> list[Task]:
    """Open tasks whose purpose is gone: done elsewhere, or their condition is in order."""
    retired = []
    for task in open_tasks(state):
        template = state.policy.template(task.key)
        if template is None:
            continue
        obsolete = any(_completed(state, key) for key in template.obsolete_when_completed)
        if task.condition is not None and state.screening.get(task.condition) == ScreeningStatus.IN_ORDER:
            obsolete = True
        if obsolete:
            task.status = TaskStatus.NOT_APPLICABLE
            task.completed_at = now
            retired.append(task)
    return retired


def escalation_target(due: datetime | None, now: datetime, state: CaseState) -> EscalationLevel:
    if due is None:
        return EscalationLevel.NONE
    ladder = state.policy.escalation
    if now >= due + ladder.coordinator_after_due:
        return EscalationLevel.COORDINATOR
    if now >= due:
        return EscalationLevel.SUPERVISOR
    if now >= due - ladder.reminder_before_due:
        return EscalationLevel.REMINDER
    return EscalationLevel.NONE


RECIPIENT_ROLE = {
    EscalationLevel.REMINDER: "assignee",
    EscalationLevel.SUPERVISOR: "supervisor",
    EscalationLevel.COORDINATOR: "coordinator",
}


def escalate(state: CaseState, now: datetime) -> list[Notification]:
    """Bring each open task to its rung of the ladder; the notifications to send.

    Only the highest new rung is sent (a task that is created overdue goes straight to
    the supervisor, not through a stale reminder). A task whose due date moved later
    steps back down, so the ladder runs again before the new date.
    """
    notifications = []
    for task in open_tasks(state):
        task.overdue = task.due is not None and now >= task.due
        target = escalation_target(task.due, now, state)
        current = ESCALATION_ORDER.index(task.escalation_level)
        if ESCALATION_ORDER.index(target) > current:
            # A reminder goes to the assignee, or to the team while nobody has claimed it.
            recipient = RECIPIENT_ROLE[target]
            if target == EscalationLevel.REMINDER and task.assignee is None:
                recipient = "team"
            notifications.append(
                Notification(
                    notification_id=f"{state.case_id}/{task.key}/{target.value}/{task.due.isoformat()}",
                    case_id=state.case_id,
                    municipality=state.notice.municipality,
                    task_key=task.key,
                    level=target,
                    recipient_role=recipient,
                    team=task.team,
                    assignee=task.assignee,
                    due=task.due,
                )
            )
        task.escalation_level = target
    for task in state.tasks:
        if task.status != TaskStatus.OPEN:
            task.overdue = False
    return notifications


def _deadline(state: CaseState, task: Task) -> datetime | None:
    template = state.policy.template(task.key)
    if template is not None and template.needed_by_release:
        return release_instant(state) if state.actual_release is None else None
    return task.due


def _earliest_finish(state: CaseState, task: Task, now: datetime, seen: frozenset[str] = frozenset()) -> datetime:
    """When an open task can be done at the earliest: after its open prerequisites, plus
    the time its own work takes (for work that already started, counted from its start)."""
    template = state.policy.template(task.key)
    takes = template.takes if template else timedelta(0)
    start = now
    for key in task.prerequisites:
        prerequisite = state.task(key)
        if prerequisite is not None and prerequisite.status == TaskStatus.OPEN and key not in seen:
            start = max(start, _earliest_finish(state, prerequisite, now, seen | {task.key}))
    if template is not None and template.anchor == Anchor.TASK_COMPLETED:
        started = anchor_instant(state, template)
        if started is not None:
            return max(now, started + takes)
    return start + takes


def assess_risk(state: CaseState, now: datetime) -> datetime | None:
    """Flag every open task on a chain that can no longer make its deadline.

    A task is at risk when its deadline has not passed yet but the earliest it can be
    done (its open prerequisites first) is later; its open prerequisites are flagged
    with it, with the reason. Returns when the next open chain would tip into risk.
    """
    for task in open_tasks(state):
        task.at_risk, task.at_risk_reason = False, None
    tipping: datetime | None = None
    for task in open_tasks(state):
        deadline = _deadline(state, task)
        if deadline is None or deadline <= now:
            continue
        finish = _earliest_finish(state, task, now)
        if finish > deadline:
            reason = (
                f"{task.key} cannot be done before {deadline.date().isoformat()}:"
                f" the earliest is {finish.date().isoformat()}"
            )
            _flag_chain(state, task, reason)
        else:
            slack_ends = now + (deadline - finish) + timedelta(seconds=1)
            if tipping is None or slack_ends < tipping:
                tipping = slack_ends
    return tipping


def _flag_chain(state: CaseState, task: Task, reason: str) -> None:
    if task.status != TaskStatus.OPEN:
        return
    if not task.at_risk:
        task.at_risk, task.at_risk_reason = True, reason
    for key in task.prerequisites:
        prerequisite = state.task(key)
        if prerequisite is not None and not prerequisite.at_risk:
            _flag_chain(state, prerequisite, reason)


def triage_open_pre_release(state: CaseState, now: datetime) -> list[Task]:
    """At release: open pre-release tasks get a short new deadline and a triage mark."""
    released = as_datetime(state.actual_release) if state.actual_release else now
    triaged = []
    for task in open_tasks(state):
        template = state.policy.template(task.key)
        if template is not None and template.anchor in PRE_RELEASE_ANCHORS:
            task.triage = True
            task.due = max(now, released) + state.policy.triage_within
            task.escalation_level = EscalationLevel.NONE
            triaged.append(task)
    return triaged


def phase_for(state: CaseState) -> Phase:
    if state.closed_reason is not None:
        return Phase.CLOSED
    if state.actual_release is not None:
        return Phase.RELEASED
    roles = state.policy.roles
    if _completed(state, roles.plan) or (state.short_stay and _completed(state, roles.short_stay_triage)):
        return Phase.PREPARING_RELEASE
    if _completed(state, roles.first_contact):
        return Phase.PLANNING
    return Phase.NOTIFIED


def closing_reason(state: CaseState) -> ClosedReason | None:
    """Whether the case's own work is finished: the handover after a move, or aftercare."""
    if state.moved_to is not None and _completed(state, state.policy.roles.handover):
        return ClosedReason.MOVED
    if state.actual_release is not None:
        aftercare = [
            t
            for t in state.tasks
            if (template := state.policy.template(t.key)) and template.anchor == Anchor.ACTUAL_RELEASE
        ]
        if aftercare and all(t.status != TaskStatus.OPEN for t in aftercare):
            pending = [t for t in state.policy.tasks if t.anchor == Anchor.ACTUAL_RELEASE and state.task(t.key) is None]
            if not pending:
                return ClosedReason.AFTERCARE_COMPLETED
    return None


def next_wake(state: CaseState, now: datetime, tipping: datetime | None) -> datetime | None:
    """The nearest moment something changes by time alone: a rung of the ladder, a task
    that opens, a chain that tips into risk."""
    ladder = state.policy.escalation
    moments: list[datetime] = [tipping] if tipping else []
    for task in open_tasks(state):
        if task.due is not None:
            moments += [task.due - ladder.reminder_before_due, task.due, task.due + ladder.coordinator_after_due]
    for template in state.policy.tasks:
        if template.opens_after is not None and state.task(template.key) is None:
            start = anchor_instant(state, template)
            if start is not None:
                moments.append(start + template.opens_after)
    future = [m for m in moments if m > now]
    return min(future) if future else None

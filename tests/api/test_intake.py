"""The intake of the justice message box, on a real dev server against the partner
simulator: day-one notices start cases, end-of-detention notices release them, notices to
the mayor start their track, what cannot be understood is kept aside, and nothing counts
twice."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.testing import WorkflowEnvironment

from activities.intake import IntakeActivities, IntakeReport
from activities.partners import MessageBoxActivities, MessageBoxClient
from domain.mayoral import NoticeClosedReason
from domain.policy import load_policy
from partners import create_partners_app
from store import intake, queries
from tests.api.test_cases import local_date_now
from tests.helpers import STAND_INS, bearer, bij_notice, notice
from worker.temporal import build_worker
from workflows.case import CaseWorkflow
from workflows.intake import IntakeInput, MessageBoxIntakeWorkflow
from workflows.mayoral import MayoralNoticeWorkflow

SIMULATOR = "http://partners.test"


@pytest.fixture
async def box(dev_env: WorkflowEnvironment, engine: Engine) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """The simulator's message box (and its sending side), and a worker that reads it."""
    transport = httpx.ASGITransport(app=create_partners_app())
    queue = f"intake-{uuid.uuid4()}"
    client = dev_env.client
    takes_in = IntakeActivities(
        engine, client, policy=load_policy(None), task_queue=queue, timeout=timedelta(seconds=30)
    )
    async with (
        MessageBoxClient.connect(f"{SIMULATOR}/messagebox", transport=transport) as reader,
        httpx.AsyncClient(transport=transport, base_url=SIMULATOR) as sender,
        build_worker(
            client,
            queue,
            engine,
            [MessageBoxActivities(reader).fetch_justice_messages, *STAND_INS],
            intake=takes_in,
        ),
    ):
        yield sender, queue


async def deliver(sender: httpx.AsyncClient, type_: str, content: dict | str, id_: str | None = None) -> None:
    body = {"type": type_, "content": content, **({"id": id_} if id_ else {})}
    response = await sender.post("/_sim/messagebox/messages", json=body)
    assert response.status_code in (200, 201), response.text


async def take_in(dev_env: WorkflowEnvironment, queue: str) -> IntakeReport:
    return await dev_env.client.execute_workflow(
        MessageBoxIntakeWorkflow.run, IntakeInput(page_size=2), id=f"intake-{uuid.uuid4()}", task_queue=queue
    )


async def test_the_message_box_starts_and_releases_cases_once(dev_env, engine, box):
    sender, queue = box
    today = local_date_now()
    first, second = notice(today), notice(today)
    await deliver(sender, "detention_started", first.model_dump(mode="json"), "dji-0001")
    await deliver(sender, "detention_started", second.model_dump(mode="json"), "dji-0002")
    # The prison service sends the first notice again, under a new message id.
    await deliver(sender, "detention_started", first.model_dump(mode="json"), "dji-0003")
    await deliver(sender, "detention_started", '{"detention_id": "DJI-X", "person": ', "dji-0004")
    released = {"detention_id": first.detention_id, "release_date": str(today), "reason": "court_order"}
    await deliver(sender, "detention_ended", released, "dji-0005")
    unknown = {"detention_id": "DJI-NEVER-SEEN", "release_date": str(today)}
    await deliver(sender, "detention_ended", unknown, "dji-0006")
    # The first detention's id again, about another person: kept aside, the case unchanged.
    mixed_up = first.model_copy(update={"person": notice(today).person})
    await deliver(sender, "detention_started", mixed_up.model_dump(mode="json"), "dji-0007")

    report = await take_in(dev_env, queue)
    assert report == IntakeReport(handled=4, unmatched=1, unreadable=1, conflict=1)

    state = await dev_env.client.get_workflow_handle(first.case_id).query(CaseWorkflow.state)
    assert state.actual_release == today and state.notices_received == 2
    assert [(h.actor, h.action) for h in state.history if h.action == "released"] == [("message_box", "released")]
    await dev_env.client.get_workflow_handle(second.case_id).describe()

    with Session(engine) as session:
        held, _ = intake.held_page(session)
    assert [(h.message_id, h.outcome) for h in held] == [
        ("dji-0004", "unreadable"),
        ("dji-0006", "unmatched"),
        ("dji-0007", "conflict"),
    ]
    assert "JSON" in held[0].reason and first.person.bsn not in (held[0].reason or "")
    assert held[2].case_id == first.case_id and mixed_up.person.bsn not in (held[2].reason or "")
    assert state.notice.person == first.person

    # The next run finds nothing new; a run that reads the same page again acts on nothing.
    assert await take_in(dev_env, queue) == IntakeReport()
    intake.save_cursor(engine, None)
    assert await take_in(dev_env, queue) == IntakeReport(already_done=7)
    state = await dev_env.client.get_workflow_handle(first.case_id).query(CaseWorkflow.state)
    assert [h.action for h in state.history].count("released") == 1 and state.notices_received == 2


async def test_operators_see_what_was_kept_aside(api, engine):
    intake.record(
        engine,
        message_id="dji-0100",
        sequence=100,
        type="detention_started",
        sent_at=datetime(2026, 11, 26, 8, tzinfo=UTC),
        outcome="unreadable",
        reason="content is not valid JSON",
    )
    admin = bearer("beheer", "admin")
    held = (await api.get("/v1/intake/held", headers=admin)).json()["items"]
    assert [(h["message_id"], h["outcome"], h["reason"]) for h in held] == [
        ("dji-0100", "unreadable", "content is not valid JSON")
    ]


async def test_the_message_box_brings_the_mayors_notices_and_what_changes_after_them(dev_env, engine, box):
    sender, queue = box
    today = local_date_now()
    leave = bij_notice(today, kind="leave", starts_in=timedelta(days=10))
    await deliver(sender, "mayoral_notice", leave.model_dump(mode="json"), "bij-msg-0001")
    # The same notice again, under a new message id: still one track.
    await deliver(sender, "mayoral_notice", leave.model_dump(mode="json"), "bij-msg-0002")
    later = {
        "type": "date_changed",
        "starts_on": str(today + timedelta(days=12)),
        "ends_on": str(today + timedelta(days=13)),
    }
    await deliver(sender, "mayoral_notice_event", {"notice_id": leave.notice_id, "event": later}, "bij-msg-0003")
    cancelled = {"notice_id": leave.notice_id, "event": {"type": "leave_cancelled"}}
    await deliver(sender, "mayoral_notice_event", cancelled, "bij-msg-0004")
    # Cancelled twice: the second finds the notice closed, and changes nothing.
    await deliver(sender, "mayoral_notice_event", cancelled, "bij-msg-0005")
    unknown = {"notice_id": "BIJ-NEVER-SEEN", "event": {"type": "leave_cancelled"}}
    await deliver(sender, "mayoral_notice_event", unknown, "bij-msg-0006")
    broken = {**leave.model_dump(mode="json"), "kind": "visit"}
    await deliver(sender, "mayoral_notice", broken, "bij-msg-0007")

    report = await take_in(dev_env, queue)
    assert report == IntakeReport(handled=5, unmatched=1, unreadable=1)
    state = await dev_env.client.get_workflow_handle(leave.workflow_id).query(MayoralNoticeWorkflow.state)
    assert (state.notices_received, state.starts_on, state.closed_reason) == (
        2,
        today + timedelta(days=12),
        NoticeClosedReason.LEAVE_CANCELLED,
    )
    assert [h.actor for h in state.history if h.action in ("date_changed", "leave_cancelled")] == ["message_box"] * 2
    with Session(engine) as session:
        held, _ = intake.held_page(session)
    assert [(h.message_id, h.outcome, h.case_id) for h in held] == [
        ("bij-msg-0006", "unmatched", "bij-BIJ-NEVER-SEEN"),
        ("bij-msg-0007", "unreadable", None),
    ]
    assert leave.person.bsn not in (held[1].reason or "") and "kind" in (held[1].reason or "")


async def test_the_message_box_brings_the_plan_and_risk_information_into_the_case(dev_env, engine, box):
    """The shareable D&R plan, draft then agreed, completes the plan task; an older version
    changes nothing. Risk information lands in its case and asks a coordinator's attention;
    about a detention reentry has no case of, it is kept aside."""
    sender, queue = box
    today = local_date_now()
    detention = notice(today)
    await deliver(sender, "detention_started", detention.model_dump(mode="json"), "dji-plan-0001")
    draft = {
        "detention_id": detention.detention_id,
        "version": 1,
        "drawn_up_on": str(today),
        "basic_conditions": {"id_document": "needs_action"},
        "actions": [{"condition": "id_document", "code": "id_apply", "due_on": str(today + timedelta(days=30))}],
    }
    agreed = {**draft, "version": 2, "status": "agreed", "agreed_on": str(today)}
    await deliver(sender, "reintegration_plan", draft, "dji-plan-0002")
    await deliver(sender, "reintegration_plan", agreed, "dji-plan-0003")
    await deliver(sender, "reintegration_plan", draft, "dji-plan-0004")
    risk = {
        "detention_id": detention.detention_id,
        "assessed_on": str(today),
        "recidivism": "high",
        "harm": "moderate",
        "codes": ["contact_ban"],
        "conviction_final": True,
        "offence_category": "violent",
    }
    await deliver(sender, "risk_information", risk, "dji-plan-0005")
    await deliver(sender, "risk_information", {**risk, "detention_id": "DJI-NEVER-SEEN"}, "dji-plan-0006")

    assert await take_in(dev_env, queue) == IntakeReport(handled=5, unmatched=1)
    state = await dev_env.client.get_workflow_handle(detention.case_id).query(CaseWorkflow.state)
    plan_task = state.task("reintegration_plan")
    assert (plan_task.status, plan_task.completed_by) == ("completed", "message_box")
    assert state.plan.version == 2 and state.risk.recidivism == "high" and state.risk.codes == ["contact_ban"]
    with Session(engine) as session:
        held, _ = intake.held_page(session)
        row = queries.case_row(session, case_id=detention.case_id)
    assert [(h.message_id, h.outcome, h.case_id) for h in held] == [
        ("dji-plan-0006", "unmatched", "case-DJI-NEVER-SEEN")
    ]
    assert row is not None and row.risk_unseen

"""The pages of the web front, under /ui: what caseworkers, coordinators and the mayor's
office work in. Every page reads through the API and every form posts to it
(``web.client``), as the signed-in person."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from api.security import PERMISSIONS, Action, Role
from domain.models import CASE_ID_PATTERN, BasicCondition, local_date
from web import charts, forms, labels
from web.client import Answer, Api
from web.session import Now, SignedIn, SignedInDep, check_csrf

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.globals.update(labels=labels, word=labels.word, due_reason=labels.due_reason, forms=forms)
templates.env.filters["dutch_time"] = labels.dutch_time

router = APIRouter(prefix="/ui", include_in_schema=False)

PAGE_SIZE = 25

# What a page or form needs, for the navigation and for the 403 page.
NAVIGATION = [
    ("/ui/", "Mijn taken", Action.LIST_TASKS),
    ("/ui/team", "Team", Action.ASSIGN_TASK),
    ("/ui/dashboard", "Dashboard", Action.READ_DASHBOARD),
    ("/ui/mayoral-notices", "Meldingen burgemeester", Action.LIST_MAYORAL_NOTICES),
]

# Where a form may send the browser back to, by name: never a path the form names itself.
RETURN_TO = {"team": "/ui/team", "inbox": "/ui/"}

# What a successful action says on the page it returns to.
DONE = {
    "completed": "De taak is afgerond.",
    "claimed": "U hebt de taak opgepakt.",
    "assigned": "De taak is toegewezen.",
    "recorded": "De gebeurtenis is vastgelegd.",
}


def api_for(request: Request, signed: SignedIn) -> Api:
    return Api(request.app, signed.principal, request.state.audit.request_id)


def render(
    request: Request, template: str, signed: SignedIn | None, *, status: int = 200, **context: Any
) -> HTMLResponse:
    nav = []
    if signed is not None:
        principal = signed.principal
        nav = [(path, text) for path, text, action in NAVIGATION if principal.may(action)]
    return templates.TemplateResponse(
        request,
        template,
        {"signed": signed, "nav": nav, "path": request.url.path, **context},
        status_code=status,
    )


def problem_page(request: Request, signed: SignedIn, answer: Answer, action: Action) -> HTMLResponse:
    """The API's refusal as a page: a 404 looks the same whether the thing is not there or
    not within reach; a 403 says which role would be needed."""
    if answer.status == 404:
        return render(request, "not_found.html", signed, status=404, title="Niet gevonden")
    if answer.status == 403:
        return forbidden_page(request, signed, action)
    return render(
        request,
        "problem.html",
        signed,
        status=answer.status,
        title=labels.PROBLEMS.get(answer.status, "Er ging iets mis"),
        message=labels.PROBLEMS.get(answer.status, "Er ging iets mis."),
        detail=answer.problem,
    )


def forbidden_page(request: Request, signed: SignedIn, action: Action) -> HTMLResponse:
    needed = sorted(labels.word(labels.ROLES, r) for r in PERMISSIONS[action])
    return render(request, "forbidden.html", signed, status=403, title="Geen toegang", needed=needed)


def done(path: str, code: str, anchor: str = "") -> RedirectResponse:
    return RedirectResponse(f"{path}?gedaan={code}{anchor}", status_code=303)


def message(gedaan: str | None) -> str | None:
    return DONE.get(gedaan or "")


async def resident_names(api: Api, case_ids: set[str]) -> dict[str, str]:
    """The residents' names, read from their cases now: the read model holds none."""
    if not case_ids:
        return {}
    answer = await api.get("/v1/cases/residents", case_id=sorted(case_ids))
    if not answer.ok:
        return {}
    return {r["case_id"]: f"{r['given_names']} {r['surname']}" for r in answer.body["residents"]}


def _flag(value: str | None) -> str | None:
    return "true" if value else None


# ---------------------------------------------------------------------------
# Casework


@router.get("/", response_class=HTMLResponse)
async def inbox(
    request: Request,
    signed: SignedInDep,
    condition: Annotated[str | None, Query(max_length=40)] = None,
    overdue: Annotated[str | None, Query(max_length=5)] = None,
    at_risk: Annotated[str | None, Query(max_length=5)] = None,
    mine: Annotated[str | None, Query(max_length=5)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    gedaan: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """Mijn taken: the open tasks within reach by due date, overdue and at risk marked."""
    principal = signed.principal
    if not principal.may(Action.LIST_TASKS):
        if principal.may(Action.LIST_MAYORAL_NOTICES):
            return RedirectResponse("/ui/mayoral-notices", status_code=303)
        return forbidden_page(request, signed, Action.LIST_TASKS)
    async with api_for(request, signed) as api:
        answer = await api.get(
            "/v1/tasks",
            condition=condition or None,
            overdue=_flag(overdue),
            at_risk=_flag(at_risk),
            assignee="me" if mine else None,
            cursor=cursor,
            limit=PAGE_SIZE,
        )
        if not answer.ok:
            return problem_page(request, signed, answer, Action.LIST_TASKS)
        tasks = answer.body["items"]
        names = await resident_names(api, {t["case_id"] for t in tasks})
    filters = {"condition": condition or "", "overdue": overdue, "at_risk": at_risk, "mine": mine}
    return render(
        request,
        "inbox.html",
        signed,
        title="Mijn taken",
        tasks=tasks,
        titles={t["key"]: t["title"] for t in tasks},
        names=names,
        filters=filters,
        next_cursor=answer.body["next_cursor"],
        conditions=forms.CONDITION_OPTIONS,
        message=message(gedaan),
    )


@router.get("/team", response_class=HTMLResponse)
async def team(
    request: Request,
    signed: SignedInDep,
    team: Annotated[str | None, Query(max_length=64)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    gedaan: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """The team's open tasks, most urgent first (overdue, then at risk), to reassign."""
    if not signed.principal.may(Action.ASSIGN_TASK):
        return forbidden_page(request, signed, Action.ASSIGN_TASK)
    async with api_for(request, signed) as api:
        answer, risks = await _team_lists(api, team, cursor)
    if not answer.ok or not risks.ok:
        return problem_page(request, signed, answer if not answer.ok else risks, Action.LIST_TASKS)
    return render(
        request,
        "team.html",
        signed,
        title="Taken van het team",
        tasks=answer.body["items"],
        risk_cases=risks.body["items"],
        team=team or "",
        next_cursor=answer.body["next_cursor"],
        message=message(gedaan),
    )


async def _team_lists(api: Api, team: str | None, cursor: str | None) -> tuple[Answer, Answer]:
    """The team's open tasks, most urgent first, and the cases whose risk information no
    coordinator has seen yet."""
    tasks = await api.get("/v1/tasks", team=team or None, sort="priority", cursor=cursor, limit=PAGE_SIZE)
    risks = await api.get("/v1/cases", risk_unseen="true", limit=PAGE_SIZE)
    return tasks, risks


async def _case_page(
    request: Request, signed: SignedIn, case_id: str, *, status: int = 200, errors: Mapping[str, Any] | None = None
) -> Response:
    async with api_for(request, signed) as api:
        answer = await api.get(f"/v1/cases/{case_id}")
    if not answer.ok:
        return problem_page(request, signed, answer, Action.READ_CASE)
    case = answer.body
    tasks = case["tasks"]
    return render(
        request,
        "case.html",
        signed,
        status=status,
        title="Zaak",
        case=case,
        titles={t["key"]: t["title"] for t in tasks},
        open_tasks=[t for t in tasks if t["status"] == "open"],
        done_tasks=[t for t in tasks if t["status"] != "open"],
        errors=errors or {},
        may_assign=signed.principal.may(Action.ASSIGN_TASK),
        may_mark_risk_seen=Role.COORDINATOR in signed.principal.roles,
        plan_actions=_plan_actions(case),
        events=forms.CASE_EVENTS,
        message=message(request.query_params.get("gedaan")),
    )


def _plan_actions(case: Mapping[str, Any]) -> dict[str, list[Mapping[str, Any]]]:
    """The D&R plan's actions by condition, for that condition's tasks."""
    by_condition: dict[str, list[Mapping[str, Any]]] = {}
    for action in (case.get("plan") or {}).get("actions", []):
        by_condition.setdefault(action["condition"], []).append(action)
    return by_condition


@router.get("/cases/{case_id}", response_class=HTMLResponse)
async def case_page(request: Request, signed: SignedInDep, case_id: str) -> Response:
    """The case: the resident, the phase, the conditions, the tasks and their forms."""
    return await _case_page(request, signed, case_id)


def _refused(answer: Answer, form: Mapping[str, str]) -> dict[str, Any]:
    return {
        "status": answer.status,
        "message": labels.PROBLEMS.get(answer.status, "Er ging iets mis."),
        "detail": answer.problem,
        "fields": forms.field_errors(answer.errors),
        "values": dict(form),
    }


async def _form(request: Request, signed: SignedIn) -> dict[str, str]:
    form = await request.form()
    values = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    check_csrf(signed, values.pop("csrf", None))
    return values


def _valid_case(case_id: str) -> bool:
    return bool(CASE_ID_PATTERN.match(case_id))


@router.post("/cases/{case_id}/tasks/{task_key}/complete", response_class=HTMLResponse)
async def complete(request: Request, signed: SignedInDep, case_id: str, task_key: str) -> Response:
    form = await _form(request, signed)
    body = {"outcome": forms.outcome_body(form.get("kind", "note"), form)}
    async with api_for(request, signed) as api:
        answer = await api.post(f"/v1/cases/{case_id}/tasks/{task_key}/complete", body)
    if answer.ok:
        return done(f"/ui/cases/{case_id}", "completed", "#taken")
    return await _after_refusal(request, signed, case_id, answer, f"task:{task_key}", form, Action.COMPLETE_TASK)


@router.post("/cases/{case_id}/tasks/{task_key}/claim", response_class=HTMLResponse)
async def claim(request: Request, signed: SignedInDep, case_id: str, task_key: str) -> Response:
    form = await _form(request, signed)
    async with api_for(request, signed) as api:
        answer = await api.post(f"/v1/cases/{case_id}/tasks/{task_key}/claim")
    if answer.ok:
        return done(f"/ui/cases/{case_id}", "claimed", "#taken")
    return await _after_refusal(request, signed, case_id, answer, f"task:{task_key}", form, Action.CLAIM_TASK)


@router.post("/cases/{case_id}/tasks/{task_key}/assign", response_class=HTMLResponse)
async def assign(request: Request, signed: SignedInDep, case_id: str, task_key: str) -> Response:
    form = await _form(request, signed)
    body = {k: v for k in ("assignee", "team") if (v := form.get(k, "").strip())}
    async with api_for(request, signed) as api:
        answer = await api.post(f"/v1/cases/{case_id}/tasks/{task_key}/assign", body)
    back = RETURN_TO.get(form.get("terug", ""))
    if answer.ok:
        return done(back or f"/ui/cases/{case_id}", "assigned", "" if back else "#taken")
    if back and answer.status in (409, 422):
        return await team_refusal(request, signed, answer, f"task:{case_id}:{task_key}", form)
    return await _after_refusal(request, signed, case_id, answer, f"task:{task_key}", form, Action.ASSIGN_TASK)


async def team_refusal(
    request: Request, signed: SignedIn, answer: Answer, key: str, form: Mapping[str, str]
) -> Response:
    async with api_for(request, signed) as api:
        page, risks = await _team_lists(api, None, None)
    if not page.ok or not risks.ok:
        return problem_page(request, signed, page if not page.ok else risks, Action.LIST_TASKS)
    return render(
        request,
        "team.html",
        signed,
        status=answer.status,
        title="Taken van het team",
        tasks=page.body["items"],
        risk_cases=risks.body["items"],
        team="",
        next_cursor=page.body["next_cursor"],
        errors={key: _refused(answer, form)},
        message=None,
    )


@router.post("/cases/{case_id}/events", response_class=HTMLResponse)
async def record_event(request: Request, signed: SignedInDep, case_id: str) -> Response:
    form = await _form(request, signed)
    event_type = form.get("type", "")
    body = forms.event_body(forms.CASE_EVENTS, event_type, form)
    async with api_for(request, signed) as api:
        answer = await api.post(f"/v1/cases/{case_id}/events", body)
    if answer.ok:
        return done(f"/ui/cases/{case_id}", "recorded", "#gebeurtenissen")
    return await _after_refusal(request, signed, case_id, answer, f"event:{event_type}", form, Action.RECORD_EVENT)


async def _after_refusal(
    request: Request, signed: SignedIn, case_id: str, answer: Answer, key: str, form: Mapping[str, str], action: Action
) -> Response:
    """The case page again, the refusal beside the form that was sent; nothing changed."""
    if answer.status in (403, 404) or not _valid_case(case_id):
        return problem_page(request, signed, answer, action)
    return await _case_page(request, signed, case_id, status=answer.status, errors={key: _refused(answer, form)})


# ---------------------------------------------------------------------------
# The dashboard


def _months(today: date, count: int) -> list[tuple[date, date]]:
    """The last `count` calendar months up to today, oldest first."""
    months, first = [], today.replace(day=1)
    for _ in range(count):
        last = min(today, (first + timedelta(days=32)).replace(day=1) - timedelta(days=1))
        months.append((first, last))
        first = (first - timedelta(days=1)).replace(day=1)
    return months[::-1]


MONTHS = ["jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec"]


@router.get("/dashboard", response_class=HTMLResponse)
async def dashboard(request: Request, signed: SignedInDep, now: Now) -> Response:
    """Cases per phase, screening per condition, overdue per team, and the outcome per month."""
    months = _months(local_date(now), 6)
    async with api_for(request, signed) as api:
        answers = await asyncio.gather(
            api.get("/v1/dashboard"),
            *(api.get("/v1/dashboard", released_from=f.isoformat(), released_to=t.isoformat()) for f, t in months),
        )
    overall, *per_month = answers
    if not overall.ok:
        return problem_page(request, signed, overall, Action.READ_DASHBOARD)
    data = overall.body
    phases = [(labels.word(labels.PHASES, p), n) for p, n in data["cases_per_phase"].items()]
    screening = [
        (labels.word(labels.CONDITIONS, c), [(labels.word(labels.SCREENING, s), share) for s, share in shares.items()])
        for c, shares in data["screening"].items()
        if c in {b.value for b in BasicCondition}
    ]
    teams = [(team, counts["overdue"], counts["at_risk"]) for team, counts in sorted(data["teams"].items())]
    outcome = [
        (
            f"{MONTHS[f.month - 1]} {f.year}",
            a.body["released"]["cases"],
            a.body["released"]["with_id_income_and_housing_in_order"],
        )
        for (f, _), a in zip(months, per_month, strict=True)
        if a.ok
    ]
    return render(
        request,
        "dashboard.html",
        signed,
        title="Dashboard",
        phases=phases,
        phase_chart=charts.bars(phases, caption="Zaken per fase"),
        screening=screening,
        screening_chart=charts.stacked_shares(screening, list(labels.SCREENING.values())),
        teams=teams,
        teams_chart=charts.bars([(t, o) for t, o, _ in teams], caption="Te late taken per team"),
        outcome=outcome,
        outcome_chart=charts.share_columns([(m, s) for m, _, s in outcome]),
    )


# ---------------------------------------------------------------------------
# The mayor's track (BIJ)


@router.get("/mayoral-notices", response_class=HTMLResponse)
async def notices(
    request: Request,
    signed: SignedInDep,
    status: Annotated[str | None, Query(max_length=20)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    """The notices to the mayor, soonest return or leave first."""
    async with api_for(request, signed) as api:
        answer = await api.get("/v1/mayoral-notices", status=status or None, cursor=cursor, limit=PAGE_SIZE)
        if not answer.ok:
            return problem_page(request, signed, answer, Action.LIST_MAYORAL_NOTICES)
        overview = await api.get("/v1/mayoral-notices/overview")
    return render(
        request,
        "notices.html",
        signed,
        title="Meldingen aan de burgemeester",
        notices=answer.body["items"],
        overview=overview.body if overview.ok else None,
        status_filter=status or "",
        next_cursor=answer.body["next_cursor"],
    )


async def _notice_page(
    request: Request, signed: SignedIn, notice_id: str, *, status: int = 200, errors: Mapping[str, Any] | None = None
) -> Response:
    async with api_for(request, signed) as api:
        answer = await api.get(f"/v1/mayoral-notices/{notice_id}")
    if not answer.ok:
        return problem_page(request, signed, answer, Action.READ_MAYORAL_NOTICE)
    notice = answer.body
    return render(
        request,
        "notice.html",
        signed,
        status=status,
        title="Melding aan de burgemeester",
        notice=notice,
        open_tasks=[t for t in notice["tasks"] if t["status"] == "open"],
        done_tasks=[t for t in notice["tasks"] if t["status"] != "open"],
        errors=errors or {},
        events=forms.NOTICE_EVENTS,
        message=message(request.query_params.get("gedaan")),
    )


@router.get("/mayoral-notices/{notice_id}", response_class=HTMLResponse)
async def notice_page(request: Request, signed: SignedInDep, notice_id: str) -> Response:
    return await _notice_page(request, signed, notice_id)


async def _notice_action(
    request: Request,
    signed: SignedIn,
    notice_id: str,
    path: str,
    body: Any,
    key: str,
    form: Mapping[str, str],
    code: str,
    action: Action,
) -> Response:
    async with api_for(request, signed) as api:
        answer = await api.post(f"/v1/mayoral-notices/{notice_id}/{path}", body)
    if answer.ok:
        return done(f"/ui/mayoral-notices/{notice_id}", code, "#stappen")
    if answer.status in (403, 404):
        return problem_page(request, signed, answer, action)
    return await _notice_page(request, signed, notice_id, status=answer.status, errors={key: _refused(answer, form)})


@router.post("/mayoral-notices/{notice_id}/tasks/{task_key}/complete", response_class=HTMLResponse)
async def complete_step(request: Request, signed: SignedInDep, notice_id: str, task_key: str) -> Response:
    form = await _form(request, signed)
    body = {"outcome": forms.outcome_body(form.get("kind", "note"), form)}
    path = f"tasks/{task_key}/complete"
    return await _notice_action(
        request, signed, notice_id, path, body, f"task:{task_key}", form, "completed", Action.COMPLETE_MAYORAL_TASK
    )


@router.post("/mayoral-notices/{notice_id}/tasks/{task_key}/claim", response_class=HTMLResponse)
async def claim_step(request: Request, signed: SignedInDep, notice_id: str, task_key: str) -> Response:
    form = await _form(request, signed)
    path = f"tasks/{task_key}/claim"
    return await _notice_action(
        request, signed, notice_id, path, None, f"task:{task_key}", form, "claimed", Action.CLAIM_MAYORAL_TASK
    )


@router.post("/mayoral-notices/{notice_id}/tasks/{task_key}/assign", response_class=HTMLResponse)
async def assign_step(request: Request, signed: SignedInDep, notice_id: str, task_key: str) -> Response:
    form = await _form(request, signed)
    body = {k: v for k in ("assignee", "team") if (v := form.get(k, "").strip())}
    path = f"tasks/{task_key}/assign"
    return await _notice_action(
        request, signed, notice_id, path, body, f"task:{task_key}", form, "assigned", Action.ASSIGN_MAYORAL_TASK
    )


@router.post("/mayoral-notices/{notice_id}/events", response_class=HTMLResponse)
async def notice_event(request: Request, signed: SignedInDep, notice_id: str) -> Response:
    form = await _form(request, signed)
    event_type = form.get("type", "")
    body = forms.event_body(forms.NOTICE_EVENTS, event_type, form)
    return await _notice_action(
        request, signed, notice_id, "events", body, f"event:{event_type}", form, "recorded", Action.RECORD_MAYORAL_EVENT
    )


# ---------------------------------------------------------------------------
# The look


@router.get("/theme.css")
def theme(request: Request) -> FileResponse:
    """The municipality's design tokens (``REENTRY_UI_THEME_CSS``), or NL Design System's
    Utrecht tokens."""
    return FileResponse(request.app.state.web_theme, media_type="text/css")

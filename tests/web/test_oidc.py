"""Sign-in at the identity provider (OpenID Connect, code flow with PKCE), against the
partner simulator's provider served on a port of this machine."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI

from partners import create_partners_app
from tests.web.conftest import make_site, running, serving


@pytest.fixture
async def provider() -> AsyncIterator[str]:
    async with serving(create_partners_app()) as url:
        yield f"{url}/idp"


@pytest.fixture
async def signed_in_site(provider, dev_env, engine, web_task_queue) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = make_site(
        dev_env,
        engine,
        web_task_queue,
        auth_issuer=provider,
        auth_jwks_url=f"{provider}/jwks",
        auth_client_id="reentry-web",
        public_url="http://reentry.test",
    )
    async with (
        running(app, dev_env, engine, web_task_queue),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://reentry.test") as client,
    ):
        yield app, client


async def at_provider(login: httpx.Response, **form: str) -> httpx.Response:
    """The browser at the provider's sign-in page, and its answer: back to reentry."""
    async with httpx.AsyncClient() as browser:
        page = await browser.get(login.headers["location"])
        assert page.status_code == 200
        query = {k: v[0] for k, v in parse_qs(urlsplit(login.headers["location"]).query).items()}
        fields = {k: query.get(k, "") for k in ("client_id", "redirect_uri", "state", "code_challenge", "nonce")}
        return await browser.post(login.headers["location"].split("?")[0], data={**fields, **form})


async def test_a_person_signs_in_at_the_identity_provider_with_pkce(signed_in_site):
    app, client = signed_in_site
    page = await client.get("/ui/login")
    assert 'href="/ui/login/oidc"' in page.text and 'name="user"' not in page.text
    login = await client.get("/ui/login/oidc")
    assert login.status_code == 303
    query = parse_qs(urlsplit(login.headers["location"]).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"]
    assert query["redirect_uri"] == ["http://reentry.test/ui/auth/callback"]

    back = await at_provider(login, username="anna", roles="caseworker", municipalities="0855")
    assert back.status_code == 302
    callback = urlsplit(back.headers["location"])
    done = await client.get(f"{callback.path}?{callback.query}")
    assert done.status_code == 303 and done.headers["location"] == "/ui/"
    inbox = await client.get("/ui/")
    assert inbox.status_code == 200 and "anna (casemanager)" in inbox.text

    # The same code again: the provider exchanges a code once.
    again = await client.get(f"{callback.path}?{callback.query}")
    assert again.status_code == 400 and "Inloggen is niet gelukt" in again.text


async def test_a_sign_in_that_comes_back_with_another_state_is_refused(signed_in_site):
    app, client = signed_in_site
    login = await client.get("/ui/login/oidc")
    back = await at_provider(login, username="anna", roles="caseworker", municipalities="0855")
    code = parse_qs(urlsplit(back.headers["location"]).query)["code"][0]
    refused = await client.get("/ui/auth/callback", params={"code": code, "state": "forged"})
    assert refused.status_code == 401 and "another state" in refused.text
    assert (await client.get("/ui/")).status_code == 303


async def test_a_token_without_a_reentry_role_signs_nobody_in(signed_in_site):
    app, client = signed_in_site
    login = await client.get("/ui/login/oidc")
    back = await at_provider(login, username="eve", roles="offline_access", municipalities="0855")
    callback = urlsplit(back.headers["location"])
    refused = await client.get(f"{callback.path}?{callback.query}")
    assert refused.status_code == 401 and "no reentry role" in refused.text
    assert (await client.get("/ui/")).status_code == 303


async def test_with_an_identity_provider_there_is_no_development_sign_in(signed_in_site):
    app, client = signed_in_site
    refused = await client.post("/ui/login", data={"user": "anna", "role": "caseworker", "municipality": "0855"})
    assert refused.status_code == 404 and "set-cookie" not in refused.headers

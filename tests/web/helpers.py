from __future__ import annotations

import re

import httpx

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def sign_in(client: httpx.AsyncClient, user: str, role: str, *municipalities: str) -> httpx.Response:
    """Signs in as a person does on one machine: the development sign-in's plain form."""
    response = await client.post(
        "/ui/login", data={"user": user, "role": role, "municipality": " ".join(municipalities)}
    )
    assert response.status_code == 303, response.text
    return response


def csrf(html: str) -> str:
    match = CSRF.search(html)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)

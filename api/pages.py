"""What every paged list of the read model shares: the cursor and limit parameters, the
rows' timestamps in UTC, and invalid cursors as problems."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from fastapi import Query
from pydantic import BaseModel, field_validator

from api.problems import Problem
from store import queries

T = TypeVar("T")

Limit = Annotated[int, Query(ge=1, le=queries.MAX_PAGE)]
Cursor = Annotated[str | None, Query(max_length=500, description="`next_cursor` of the previous page")]


class ReadModelItem(BaseModel):
    """A row of the read model. SQLite hands back its UTC timestamps without a zone."""

    @field_validator("*", mode="after")
    @classmethod
    def _utc(cls, value: object) -> object:
        if isinstance(value, datetime) and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def read_page(call: Callable[..., T], **kwargs: Any) -> T:
    try:
        return call(**kwargs)
    except queries.InvalidCursor as err:
        raise Problem(422, str(err), type_="urn:reentry:problem:invalid-cursor") from err

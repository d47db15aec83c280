"""Open Notificaties: the municipality's notification component, which takes messages
(``kanaal``, ``hoofdObject``, ``resource``, ``resourceUrl``, ``actie``, ``aanmaakdatum``,
``kenmerken``) and passes them on to the subscribers of the channel. The simulator keeps
what it received (``GET /_sim/received/notifications``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from partners.deps import SimDep

router = APIRouter(prefix="/notificaties/api/v1", tags=["notifications (Open Notificaties)"])

Url = Annotated[str, StringConstraints(pattern=r"^https?://\S{1,990}$")]


class Notificatie(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    kanaal: Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{1,50}$")]
    hoofd_object: Url = Field(alias="hoofdObject")
    resource: Annotated[str, StringConstraints(pattern=r"^[a-zA-Z0-9_-]{1,100}$")]
    resource_url: Url = Field(alias="resourceUrl")
    actie: Annotated[str, StringConstraints(pattern=r"^[a-zA-Z0-9_-]{1,100}$")]
    aanmaakdatum: AwareDatetime
    kenmerken: dict[str, Annotated[str, StringConstraints(max_length=1000)]] = {}


@router.post("/notificaties", response_model=Notificatie, response_model_by_alias=True)
async def publish(notification: Notificatie, sim: SimDep) -> Notificatie:
    """Takes a notification for the subscribers of its channel."""
    sim.notifications.append(notification.model_dump(mode="json", by_alias=True))
    return notification

"""What can go wrong in a call to a partner system, in the style of httpx's exception module.

The hierarchy::

    PartnerError
    ├── RequestRejected        the partner says our request is wrong (4xx but 408 and 429):
    │   │                      the same request will be refused again, so it is not retried
    │   └── NotFound           404: what we asked about does not exist there
    └── PartnerUnavailable     it may work next time: retried with backoff
        ├── PartnerTimeout     no (complete) answer within the call's timeout
        ├── PartnerUnreachable no connection, or the connection broke
        ├── PartnerFailed      5xx, 408 Request Timeout, 429 Too Many Requests
        └── MalformedAnswer    an answer that is not JSON, or not in the agreed shape

In an activity, ``to_application_error()`` turns one into the ``ApplicationError`` that
Temporal retries or not: its ``type`` is the class's stable ``type`` (never match the
message), a rejected request is ``non_retryable``, and a ``Retry-After`` from the partner
becomes the delay before the next attempt. Messages name the partner, the method, the
path and the status; never a request or answer body, which may hold personal data.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import timedelta
from typing import ClassVar

from temporalio.exceptions import ApplicationError

from activities.metrics import PARTNER_CALL_ERRORS


class PartnerError(Exception):
    type: ClassVar[str] = "PartnerError"
    retryable: ClassVar[bool] = True

    def __init__(
        self, message: str, *, partner: str, status: int | None = None, retry_after: timedelta | None = None
    ) -> None:
        super().__init__(message)
        self.partner, self.status, self.retry_after = partner, status, retry_after

    def to_application_error(self) -> ApplicationError:
        return ApplicationError(
            str(self), type=self.type, non_retryable=not self.retryable, next_retry_delay=self.retry_after
        )


class RequestRejected(PartnerError):
    """The partner refused the request as wrong; retrying the same request cannot help."""

    type = "PartnerRequestRejected"
    retryable = False


class NotFound(RequestRejected):
    type = "PartnerNotFound"


class PartnerUnavailable(PartnerError):
    """A transient failure: the same request may well succeed later."""

    type = "PartnerUnavailable"


class PartnerTimeout(PartnerUnavailable):
    type = "PartnerTimeout"


class PartnerUnreachable(PartnerUnavailable):
    type = "PartnerUnreachable"


class PartnerFailed(PartnerUnavailable):
    type = "PartnerFailed"


class MalformedAnswer(PartnerUnavailable):
    type = "PartnerAnswerMalformed"


# For a workflow's RetryPolicy: the errors no attempt will mend. They are raised
# non-retryable already; naming them here as well keeps a policy honest if that changes.
NON_RETRYABLE_ERROR_TYPES = [RequestRejected.type, NotFound.type]


@contextlib.contextmanager
def as_activity_errors() -> Iterator[None]:
    """Raise a partner's error as the ``ApplicationError`` Temporal retries (or not), and
    count it (``reentry_partner_call_errors_total``)."""
    try:
        yield
    except PartnerError as err:
        PARTNER_CALL_ERRORS.labels(err.partner, err.type).inc()
        raise err.to_application_error() from err

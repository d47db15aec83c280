"""The error vocabulary that the case, the API and intake share.

A business failure leaves a workflow as an ``ApplicationError`` whose ``type`` is one of
these; the API maps the type to an HTTP status and never matches message text.
"""

from __future__ import annotations


class ErrorType:
    """Stable ``ApplicationError`` types; the API maps them to HTTP statuses."""

    TASK_NOT_FOUND = "TaskNotFound"  # 404
    CASE_CLOSED = "CaseClosed"  # 409
    TASK_NOT_OPEN = "TaskNotOpen"  # 409
    PREREQUISITES_OPEN = "PrerequisitesOpen"  # 409
    TASK_ASSIGNED_TO_OTHER = "TaskAssignedToOther"  # 409
    EVENT_NOT_POSSIBLE = "EventNotPossible"  # 409
    # A notice sent again for a detention (or a BIJ notice id) that names another person.
    NOTICE_CONFLICT = "NoticeConflict"  # 409
    INVALID_OUTCOME = "InvalidOutcome"  # 422
    INVALID_EVENT = "InvalidEvent"  # 422

"""Domain exceptions of the workbench, in one place.

Each refines the built-in exception a caller would expect, so ``except ValueError``
keeps working, and each message says what was wrong, what is allowed and what was
received.
"""
from __future__ import annotations

__all__ = [
    "WorkbenchError",
    "ParameterError",
    "DataValidationError",
    "SchemaMismatchError",
    "AccessDenied",
]


class WorkbenchError(Exception):
    """Base class of all workbench errors."""


class ParameterError(WorkbenchError, ValueError):
    """A parameter has a value outside what is allowed."""

    @classmethod
    def invalid(cls, name: str, allowed: str, got: object) -> "ParameterError":
        return cls(f"The {name!r} parameter must be {allowed}. Got {got!r} instead.")


class DataValidationError(WorkbenchError, ValueError):
    """An extract failed validation; ``problems`` lists every failure found.

    Each problem is a dict with keys ``table``, ``column``, ``check``,
    ``count`` and ``examples`` (a few failing values or rows).
    """

    def __init__(self, message: str, problems: list[dict] | None = None):
        super().__init__(message)
        self.problems = list(problems or [])


class SchemaMismatchError(WorkbenchError, ValueError):
    """A table's columns or categories do not match what a model was trained on."""


class AccessDenied(WorkbenchError, PermissionError):
    """The signed-in user's role or branch does not permit this action."""

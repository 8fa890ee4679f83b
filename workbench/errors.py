"""Domain exceptions of the workbench, in one place.

Each refines the built-in exception a caller would expect, so ``except ValueError``
keeps working, and each message says what was wrong, what is allowed and what was
received.
"""
from __future__ import annotations

from pathlib import Path

__all__ = [
    "WorkbenchError",
    "ParameterError",
    "DataValidationError",
    "SchemaMismatchError",
    "AccessDenied",
    "TemplateError",
    "DestinationExistsError",
    "DeliveryError",
    "ImmutableVersionError",
    "WorkspaceError",
    "MissingExtraError",
    "Words",
    "error_text",
    "warning_text",
]

#: The language of an error's message as raised (what callers, logs and tests read); the command line
#: words it again in the user's language (:func:`error_text`).
RAISED_LANGUAGE = "en"


def _t(key: str, lang: str | None, /, **values) -> str:
    from workbench.i18n import t   # i18n imports this module: import it when a message is worded

    return t(key, lang=lang, **_worded(values, lang))


def _worded(values: dict, lang: str | None) -> dict:
    """``values`` with each :class:`Words` (or tuple of them, joined by the catalogue's separator) in ``lang``."""
    def word(v):
        if isinstance(v, Words):
            return v.text(lang)
        if isinstance(v, tuple) and v and all(isinstance(w, Words) for w in v):
            return _t("errors.separator", lang).join(w.text(lang) for w in v)
        return v
    return {k: word(v) for k, v in values.items()}


class Words(str):
    """A phrase of the label catalogue inside an error's values (``allowed`` of :meth:`ParameterError.invalid`).

    It reads as its English text wherever a string is expected (messages as raised stay English) and
    is worded again in the user's language when the command line words the error (:func:`error_text`).

    Examples
    --------
    >>> Words("errors.allowed.one_of", choices="['zh', 'en']")          # doctest: +SKIP
    "one of ['zh', 'en']"
    >>> Words("errors.allowed.one_of", choices="['zh', 'en']").text("zh")  # doctest: +SKIP
    "['zh', 'en'] 之一"
    """

    key: str
    values: dict

    def __new__(cls, key: str, /, **values):
        self = super().__new__(cls, _t(key, RAISED_LANGUAGE, **values))
        self.key, self.values = key, dict(values)
        return self

    def __getnewargs_ex__(self):   # pickled errors (worker processes) keep their key
        return (self.key,), self.values

    def text(self, lang: str | None = None) -> str:
        """The phrase in ``lang`` (default: the current language)."""
        return _t(self.key, lang, **self.values)


class WorkbenchError(Exception):
    """Base class of all workbench errors.

    An error made by :meth:`from_key` carries a catalogue key (``errors.*``) and its values, so it can
    be worded again in another language (:meth:`localized`); its message is the current language's.
    """

    #: Catalogue key of the message (``errors.*``) and its values; None for a message without one.
    message_key: str | None = None
    values: dict = {}

    @classmethod
    def from_key(cls, key: str, **values):
        """The error whose message is the catalogue's ``key`` (current language) filled with ``values``."""
        exc = cls(_t(key, None, **values))
        exc.message_key, exc.values = key, dict(values)
        return exc

    @classmethod
    def from_words(cls, key: str, /, **values):
        """The error whose message is the catalogue's English ``key`` filled with ``values`` (as raised, what
        callers and logs read), worded again in the user's language by the command line (:meth:`localized`)."""
        exc = cls(_t(key, RAISED_LANGUAGE, **values))
        exc.message_key, exc.values = key, dict(values)
        return exc

    @classmethod
    def keyed(cls, message: str, key: str, **values):
        """The error with ``message`` as raised (kept as it was, for callers that read it) and the
        catalogue's ``key`` for the command line, which words it in its own language."""
        exc = cls(message)
        exc.message_key, exc.values = key, dict(values)
        return exc

    def localized(self, lang: str | None = None) -> str:
        """The message in ``lang`` (default: the current language) when the error has a catalogue key, else
        the message as raised."""
        if self.message_key is None:
            return str(self)
        return _t(self.message_key, lang, **self.values)


_ONE_OF = "one of "


class ParameterError(WorkbenchError, ValueError):
    """A parameter has a value outside what is allowed."""

    @classmethod
    def invalid(cls, name: str, allowed: str, got: object) -> "ParameterError":
        """``The 'name' parameter must be <allowed>. Got <got> instead.``; ``allowed`` may be :class:`Words`
        (then the command line words it in the user's language too), as is an ``allowed`` written
        ``"one of <choices>"`` (``errors.allowed.one_of``)."""
        if type(allowed) is str and allowed.startswith(_ONE_OF):
            allowed = Words("errors.allowed.one_of", choices=allowed[len(_ONE_OF):])
        exc = cls(f"The {name!r} parameter must be {allowed}. Got {got!r} instead.")
        exc.message_key = "errors.parameter.invalid"
        exc.values = {"name": repr(name), "allowed": allowed, "got": repr(got)}
        return exc


class DataValidationError(WorkbenchError, ValueError):
    """An extract failed validation; ``problems`` lists every failure found.

    Each problem is a dict with keys ``table``, ``column``, ``check``,
    ``count`` and ``examples`` (a few failing values or rows).
    """

    def __init__(self, message: str, problems: list[dict] | None = None, report=None):
        super().__init__(message)
        self.problems = list(problems or [])
        self.report = report  # the workbench.data.io.Report it stands for, when raised by validation

    def localized(self, lang: str | None = None) -> str:
        """The validation report in ``lang`` when the error carries one, else the message as raised."""
        return self.report.format(lang) if self.report is not None else super().localized(lang)


class SchemaMismatchError(WorkbenchError, ValueError):
    """A table's columns or categories do not match what a model was trained on."""


class AccessDenied(WorkbenchError, PermissionError):
    """The signed-in user's role or branch does not permit this action."""


class TemplateError(WorkbenchError, RuntimeError):
    """A template is malformed, or one of its cells failed while it ran.

    Attributes
    ----------
    notebook : pathlib.Path or None
        The executed notebook kept for inspection (when the failure happened while running).
    cell_index : int or None
        Index of the failed cell in that notebook.
    ename, evalue : str or None
        Name and message of the exception the cell raised.
    """

    def __init__(self, message: str, *, notebook: Path | None = None, cell_index: int | None = None,
                 ename: str | None = None, evalue: str | None = None):
        super().__init__(message)
        self.notebook = notebook
        self.cell_index = cell_index
        self.ename = ename
        self.evalue = evalue


class DestinationExistsError(WorkbenchError, FileExistsError):
    """A copy of a template would overwrite an existing file."""


class DeliveryError(WorkbenchError, OSError):
    """A feed or back-fill cannot deliver to its destination (missing, not a folder, not writable).

    Nothing has been delivered when it is raised: files are written under a temporary
    name and renamed only when complete.
    """


class ImmutableVersionError(WorkbenchError, RuntimeError):
    """A released campaign version, or one of its members, was about to change.

    Released plans are history: change the plan by releasing a new version
    (:meth:`workbench.store.Store.new_version`).  The database triggers of the
    migrations enforce the same rule for SQL that bypasses the ORM.
    """


class WorkspaceError(WorkbenchError, ValueError):
    """A workspace config (``workbench.toml``) is missing, unreadable, or names a value that cannot be used.

    The message names the key (``data``, ``store`` ...), the config file, the value found and how to
    fix it.  Nothing has been written when it is raised.

    Attributes
    ----------
    key : str or None
        The config key (or template parameter) at fault.
    config_file : pathlib.Path or None
        The config file the value comes from.
    """

    def __init__(self, message: str, *, key: str | None = None, config_file: Path | None = None):
        super().__init__(message)
        self.key = key
        self.config_file = config_file


class MissingExtraError(WorkbenchError, ImportError):
    """A feature needs an optional package (a pip "extra") that is not installed.

    ``extra`` names the extra (``"scale"``, ``"postgres"``) and ``module`` the missing module.
    """

    def __init__(self, message: str, *, extra: str, module: str):
        super().__init__(message, name=module)
        self.extra = extra
        self.module = module


def error_text(exc: BaseException, lang: str | None = None) -> str:
    """What the command line prints for an error: the catalogue's prefix and the message in ``lang``.

    Workbench errors with a catalogue key are worded in ``lang``; a missing file names its path in
    ``lang``; any other message is shown as raised.
    """
    if isinstance(exc, WorkbenchError):
        message = exc.localized(lang)
    elif isinstance(exc, FileNotFoundError) and exc.filename is not None:
        message = _t("errors.file_not_found", lang, path=str(exc.filename))
    else:
        message = str(exc)
    return _t("errors.prefix", lang, message=message)


def warning_text(message: str, lang: str | None = None) -> str:
    """What the command line prints for a warning: the catalogue's prefix (``警告：`` / ``warning:``)
    before a message already worded in ``lang``."""
    return _t("errors.warning_prefix", lang, message=message)


def data_file(path) -> Words:
    """The ``--data`` file named in a message: ``the --data file 'x.csv'`` (worded in the user's language)."""
    return Words("errors.table.data_file", name=repr(str(path)))


def column_missing(role: str, column, table: str, available: str) -> "ParameterError":
    """``<role> column 'x' is not in <table>; available columns: [...]`` (``role``: target, id, excluded,
    segment, or any key of ``errors.role``; ``column`` a name or a list of names)."""
    if isinstance(column, list):
        message = f"{role} column(s) {column} are not in {table}; available columns: {available}."
        key = "errors.model.columns_missing"
    else:
        message = f"{role} column {column!r} is not in {table}; available columns: {available}."
        key = "errors.model.column_missing"
    return ParameterError.keyed(message, key, role=Words(f"errors.role.{role}"),
                                column=repr(column) if not isinstance(column, list) else str(column),
                                table=table, columns=available)

"""The executor app's form side: contact times, one submitted form, numbers, progress lines and messages.

- :class:`ResultForm` - one submitted form: a ``client_request_id`` made once per form and kept after
  a failed write, so a retry never writes a duplicate.  The concurrency test drives this class, the
  same path the app's button takes;
- :func:`phone_lookup` - the full number of a subscriber from the workspace's province data, for
  :meth:`Store.reveal_number` (which decides, caps and audits);
- :func:`next_position` - which row is selected after a result (the keyboard flow);
- :func:`progress_summary`, :func:`branch_summary_html`, :func:`executor_progress_html` - own, branch
  and per-executor progress, always re-read from the store after a write, never from widget state;
- :func:`on_behalf_text` - "recorded on behalf of" an executor, by the name people know them by;
- :func:`plain_message` - an exception as a sentence for the page.
"""
from __future__ import annotations

import datetime as dt
import html
import uuid
from collections.abc import Callable

import pandas as pd

from workbench.apps.widgets import branch_label
from workbench.apps.worklist_grid import assigned_executor, shown_executor
from workbench.errors import AccessDenied, ParameterError
from workbench.i18n import get_language, t
from workbench.report.format import pct_text
from workbench.store import CONTACT_RESULTS, RecordedResult, Store, User
from workbench.store.audit import RevealLimitReached
from workbench.store.results import PROVINCE_UTC_OFFSET, ContactTimeError

__all__ = [
    "TIME_FORMAT",
    "CALLBACK_DELAY",
    "parse_contacted_at",
    "now_text",
    "callback_text",
    "ResultForm",
    "phone_lookup",
    "next_position",
    "progress_summary",
    "branch_summary_html",
    "executor_progress_html",
    "on_behalf_text",
    "plain_message",
]

#: How the contact time (and a callback's time) is typed in the form.
TIME_FORMAT = "%Y-%m-%d %H:%M"
#: The callback time the form offers first: a day after now.
CALLBACK_DELAY = dt.timedelta(days=1)
_PREFIX = "app_executor"


def _lang(lang: str | None) -> str:
    return lang or get_language()


def parse_contacted_at(text: str, parameter: str = "contacted_at") -> dt.datetime:
    """A time typed as :data:`TIME_FORMAT` (local wall time is taken as UTC+8, the province's clock).

    Raises
    ------
    ParameterError
        When ``text`` does not match :data:`TIME_FORMAT` (naming ``parameter``).
    """
    try:
        local = dt.datetime.strptime(str(text).strip(), TIME_FORMAT)
    except ValueError:
        raise ParameterError.invalid(parameter, f"a time like {TIME_FORMAT!r}", text) from None
    return local.replace(tzinfo=PROVINCE_UTC_OFFSET)


def now_text() -> str:
    """The current time in the province (UTC+8) as :data:`TIME_FORMAT`."""
    return dt.datetime.now(PROVINCE_UTC_OFFSET).strftime(TIME_FORMAT)


def callback_text() -> str:
    """The callback time the form offers first (:data:`CALLBACK_DELAY` from now), as :data:`TIME_FORMAT`."""
    return (dt.datetime.now(PROVINCE_UTC_OFFSET) + CALLBACK_DELAY).strftime(TIME_FORMAT)


class ResultForm:
    """One contact-result form of one executor: submit, and retry without duplicates.

    A ``client_request_id`` is made when the form starts; it stays the same
    while writes fail (a retry sends it again, so the store keeps one row even
    if the first write did reach it) and a fresh one is made after a success.

    Parameters
    ----------
    store : Store
        The campaign store (enforces who may write which row).
    user : User
        The signed-in user.

    Examples
    --------
    >>> form = ResultForm(store, user)                                   # doctest: +SKIP
    >>> form.submit(member_id, "accepted", "wants the sports edition")    # doctest: +SKIP
    RecordedResult(result_id=1, member_id=7, created=True, on_behalf_of=None)
    """

    def __init__(self, store: Store, user: User):
        self.store = store
        self.user = user
        self.request_id = uuid.uuid4().hex
        self.pending: tuple | None = None

    def submit(self, member_id: int, result: str, note: str = "", contacted_at: dt.datetime | None = None,
               callback_at: dt.datetime | None = None) -> RecordedResult:
        """Record the form; on success the next form gets a new request id.

        A different member, result, note or time than the failed attempt before
        counts as a new form (new request id).  ``callback_at`` is sent only with
        the result ``call_back``.

        Raises
        ------
        AccessDenied, ParameterError
            From :meth:`Store.record_result` (row outside the user's scope, bad
            value); the request id is kept for a retry.
        """
        if result not in CONTACT_RESULTS:
            raise ParameterError.invalid("result", f"one of {list(CONTACT_RESULTS)}", result)
        callback_at = callback_at if result == "call_back" else None
        content = (int(member_id), result, note, contacted_at, callback_at)
        if self.pending is not None and self.pending != content:
            self.request_id = uuid.uuid4().hex
        self.pending = content
        recorded = self.store.record_result(self.user, int(member_id), result, note, contacted_at,
                                            client_request_id=self.request_id, callback_at=callback_at)
        self.pending = None
        self.request_id = uuid.uuid4().hex
        return recorded


def phone_lookup(data: str = "") -> Callable[[int], str | None]:
    """``lookup(subscriber_id) -> full number or None`` over the province data ``data`` ("" = the workspace's).

    The data folder is resolved, and the reader imported, at the first call (an app that reveals no
    number pays nothing).  Pass it to :meth:`Store.reveal_number`, which decides whether the user may
    see the number, counts the day's reveals and writes the audit row.

    Raises
    ------
    WorkspaceError, ParameterError
        At the call: no workspace (or no data folder) to read the numbers from.
    """
    source: list[str] = []

    def lookup(subscriber_id: int) -> str | None:
        from workbench.data.numbers import phone_numbers
        from workbench.workspace import workspace_data

        if not source:
            source.append(workspace_data(data))
        found = phone_numbers(source[0], [int(subscriber_id)])
        return str(found.iloc[0]) if len(found) else None

    return lookup


def next_position(before: pd.Series, position: int, member_id: int, after: pd.Series) -> int | None:
    """The row to select after recording on ``member_id`` (at ``position`` of the ``before`` ids).

    The row after it when it is still listed (e.g. the filter ``all``), else the row that took its
    place (the list "to work" drops a contacted customer); the last row when the end is passed;
    None for an empty list.
    """
    if not len(after):
        return None
    ids = after.astype("int64").tolist()
    if int(member_id) in ids:
        return min(ids.index(int(member_id)) + 1, len(ids) - 1)
    return min(max(int(position), 0), len(ids) - 1)


def progress_summary(progress: pd.DataFrame) -> dict[str, float]:
    """The ``total`` row of :meth:`Store.progress` as numbers (members, contacted, accepted and rates)."""
    total = progress[progress["dimension"] == "total"]
    if total.empty:
        return {"members": 0, "contacted": 0, "accepted": 0, "contacted_rate": 0.0, "accepted_rate": 0.0}
    row = total.iloc[0]
    return {"members": int(row["members"]), "contacted": int(row["contacted"]), "accepted": int(row["accepted"]),
            "contacted_rate": float(row["contacted_rate"]), "accepted_rate": float(row["accepted_rate"])}


def branch_summary_html(branch: pd.DataFrame, lang: str | None = None) -> str:
    """The branch's totals (:meth:`Store.branch_totals`) as a line of class ``wb-branch-progress``.

    The element carries ``data-branch``, ``data-members``, ``data-contacted`` and
    ``data-accepted`` for the browser tests; an empty frame gives ``""``.
    """
    if branch.empty:
        return ""
    row = branch.iloc[0]
    numbers = {c: int(row[c]) for c in ("members", "contacted", "accepted")}
    text = t("apps.branch_progress.summary", lang=_lang(lang), branch=branch_label(str(row["branch"]), lang),
             contacted_rate=pct_text(row["contacted_rate"], 0), accepted_rate=pct_text(row["accepted_rate"], 0),
             **numbers)
    return (f'<div class="wb-branch-progress" data-branch="{html.escape(str(row["branch"]))}" '
            f'data-members="{numbers["members"]}" data-contacted="{numbers["contacted"]}" '
            f'data-accepted="{numbers["accepted"]}">{html.escape(text)}</div>')


def executor_progress_html(progress: pd.DataFrame, lang: str | None = None) -> str:
    """Each executor's progress (the ``executor`` rows of :meth:`Store.progress`) as a small table.

    One row per executor (class ``wb-executor-progress``, ``data-executor``: the login, ``data-members``,
    ``data-contacted``) named as people know them (the store's ``executor_name``, else the login):
    contacted of total, accepted; rows without an executor are "unassigned".
    An empty frame gives ``""``.
    """
    lang = _lang(lang)
    rows = progress[progress["dimension"] == "executor"]
    if rows.empty:
        return ""
    head = "".join(f"<th>{html.escape(t(f'{_PREFIX}.executor_table.{k}', lang=lang))}</th>"
                   for k in ("executor", "contacted", "accepted"))
    body = []
    for _, row in rows.iterrows():
        key = row["key"] if isinstance(row["key"], str) and row["key"] else ""
        shown = row.get("executor_name")
        name = (shown if isinstance(shown, str) and shown else key) or t(f"{_PREFIX}.executor_table.unassigned",
                                                                          lang=lang)
        members, contacted, accepted = int(row["members"]), int(row["contacted"]), int(row["accepted"])
        body.append(
            f'<tr class="wb-executor-progress" data-executor="{html.escape(key)}" data-members="{members}" '
            f'data-contacted="{contacted}"><td>{html.escape(name)}</td>'
            f'<td>{contacted} / {members} ({html.escape(pct_text(row["contacted_rate"], 0))})</td>'
            f'<td>{accepted}</td></tr>')
    return (f'<h4 style="margin:.6em 0 .2em 0">{html.escape(t(f"{_PREFIX}.executor_table.heading", lang=lang))}'
            f'</h4><table class="wb-executors" style="border-collapse:collapse"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table>')


def on_behalf_text(executor: str | None, row=None, lang: str | None = None) -> str:
    """"(recorded on behalf of ...)" for ``executor`` (a login: :func:`workbench.store.access.on_behalf_of`,
    :attr:`RecordedResult.on_behalf_of`); ``""`` when None.

    The executor is named as people know them (:func:`shown_executor` of ``row``, the worklist row
    recorded on) when they are that row's executor, else by the login.
    """
    if not executor:
        return ""
    same = row is not None and assigned_executor(row) == executor
    return t(f"{_PREFIX}.on_behalf", lang=_lang(lang), executor=shown_executor(row) if same else executor)


def plain_message(exc: BaseException, lang: str | None = None) -> str:
    """A sentence for the page: a refused write or reveal, a bad value, or a failure worth a retry."""
    lang = _lang(lang)
    if isinstance(exc, RevealLimitReached):
        return t(f"{_PREFIX}.reveal_cap", lang=lang, used=exc.used, cap=exc.cap)
    if isinstance(exc, ContactTimeError):
        local = {k: getattr(exc, k).astimezone(PROVINCE_UTC_OFFSET).strftime(TIME_FORMAT)
                 for k in ("given", "earliest", "latest")}
        return t(f"{_PREFIX}.time_out_of_range", lang=lang, **local)
    if isinstance(exc, (AccessDenied, ParameterError)):
        return t(f"{_PREFIX}.refused", lang=lang, reason=str(exc))
    reason = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
    return t(f"{_PREFIX}.failed", lang=lang, reason=reason)

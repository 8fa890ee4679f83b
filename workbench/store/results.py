"""Recording contact results: one at a time from a form, or a batch from a dialler or a file.

Both paths check the same things (scope, result, note, time, a released and
open campaign, the target group) and are idempotent on ``client_request_id``.

Who may record on which row is decided by :func:`workbench.store.access.can_write_member` under the
store's :class:`~workbench.store.access.AccessPolicy`: whether a branch manager may record on a
customer assigned to an executor is the policy's ``managers_record_for_executors`` (default off).
When allowed, the result is recorded *on behalf of* that executor: the ``contact_results`` row names
the manager who recorded it (``executor``: who made the contact), the member row names whose
customer it is, and the audit entry and :class:`RecordedResult` carry ``on_behalf_of``.
"""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from workbench.errors import AccessDenied, DataValidationError, ParameterError
from workbench.store.access import (
    RESULT_WRITERS, User, can_write_member, may_record_for_others, on_behalf_of, require_role, sees_missing_members,
)
from workbench.store.core import StoreCore, _frame
from workbench.store.models import (
    CONTACT_RESULTS, Campaign, CampaignMember, CampaignVersion, ContactResult, StoreSession, utcnow,
)

__all__ = [
    "StoreResults", "RecordedResult", "ContactTimeError", "campaign_start", "MAX_NOTE_LENGTH",
    "RESULT_BATCH_COLUMNS", "RECORDED_BATCH_COLUMNS", "PROVINCE_UTC_OFFSET",
]

#: Longest note an executor may write with a result.
MAX_NOTE_LENGTH = 2000
#: How far in the future ``contacted_at`` may lie (clock skew of a branch PC).
CLOCK_SKEW = dt.timedelta(minutes=10)
#: Columns :meth:`Store.record_results` reads (``member_id`` and ``result`` are required).
RESULT_BATCH_COLUMNS: tuple[str, ...] = ("member_id", "result", "contacted_at", "note", "client_request_id", "executor")
#: Columns of the frame :meth:`Store.record_results` returns.
RECORDED_BATCH_COLUMNS: tuple[str, ...] = ("member_id", "client_request_id", "result_id", "created")
#: Values per ``IN (...)`` list when a batch looks rows up (below SQLite's and PostgreSQL's parameter limits).
_IN_CHUNK = 10_000
#: Passes of a batch that loses a race on its request ids to a concurrent upload.
_BATCH_ATTEMPTS = 3
#: The province's clock (Xinjiang runs on Beijing time): a campaign period's dates start at local midnight.
PROVINCE_UTC_OFFSET = dt.timezone(dt.timedelta(hours=8))
#: Longest executor name (``contact_results.executor``).
_EXECUTOR_LENGTH = ContactResult.__table__.c.executor.type.length


class ContactTimeError(ParameterError):
    """A contact time outside [campaign start, now]: carries the bounds so a page can say it in its language.

    Attributes
    ----------
    given, earliest, latest : datetime.datetime
        The refused time and the allowed range (timezone-aware).
    count : int
        How many rows of a batch were refused (1 for a single result).
    """

    def __init__(self, given: dt.datetime, earliest: dt.datetime, latest: dt.datetime, count: int = 1):
        self.given, self.earliest, self.latest, self.count = given, earliest, latest, int(count)
        super().__init__(
            f"The 'contacted_at' parameter must lie between the campaign's start {earliest.isoformat()} and now "
            f"({latest.isoformat()}). Got {given.isoformat()}" + (f" ({count} rows)." if count > 1 else ".")
        )


def campaign_start(spec: dict | None, released_at: dt.datetime | None) -> dt.datetime:
    """The earliest time a contact of a campaign version may have: local midnight of its period's first day.

    A spec without a period (``goal.period_start``) starts at local midnight of its release day (a
    contact typed to the minute on the day of release is never refused); an unreleased version at the
    epoch (it accepts no results anyway).
    """
    goal = (spec or {}).get("goal") if isinstance(spec, dict) else None
    start = goal.get("period_start") if isinstance(goal, dict) else None
    if start:
        try:
            day = dt.date.fromisoformat(str(start)[:10])
            return dt.datetime.combine(day, dt.time(), PROVINCE_UTC_OFFSET)
        except ValueError:
            pass
    if released_at is not None:
        aware = released_at if released_at.tzinfo else released_at.replace(tzinfo=dt.timezone.utc)
        return dt.datetime.combine(aware.astimezone(PROVINCE_UTC_OFFSET).date(), dt.time(), PROVINCE_UTC_OFFSET)
    return dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


@dataclass(frozen=True)
class RecordedResult:
    """Outcome of :meth:`Store.record_result`; ``created`` is False for a retried request.

    ``on_behalf_of`` names the executor whose customer a manager recorded on (None otherwise).
    """

    result_id: int
    member_id: int
    created: bool
    on_behalf_of: str | None = None


def _validate_results(frame: pd.DataFrame, now: dt.datetime) -> pd.DataFrame:
    """Check a batch of contact results; return it normalised (see :meth:`Store.record_results`).

    ``executor`` stays empty where not given (the acting user fills it in);
    ``contacted_at`` becomes timezone-aware UTC, ``now`` where not given.
    """
    if not isinstance(frame, pd.DataFrame):
        raise ParameterError.invalid("frame", "a pandas DataFrame", type(frame).__name__)
    required = RESULT_BATCH_COLUMNS[:2]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise ParameterError(
            f"The 'frame' of contact results must have the columns {list(required)} (and may have "
            f"{list(RESULT_BATCH_COLUMNS[2:])}); missing {missing}. Got columns {list(frame.columns)}."
        )
    n = len(frame)
    index = pd.RangeIndex(n)

    def column(name: str) -> pd.Series:
        if name in frame.columns:
            return frame[name].reset_index(drop=True)
        return pd.Series([None] * n, index=index, dtype=object)

    problems = []

    def check(col: str, what: str, mask, values) -> None:
        """Record a failed check; ``values`` (a Series, or a function making one) gives the examples."""
        mask = pd.Series(np.asarray(mask, dtype=bool), index=index)
        if mask.any():
            shown = values() if callable(values) else values
            problems.append({"table": "contact_results", "column": col, "check": what, "count": int(mask.sum()),
                             "examples": shown[mask].head(5).tolist()})

    member = column("member_id")
    mid = pd.to_numeric(member, errors="coerce")
    check("member_id", "not null integer", mid.isna() | (mid != mid.round()), member)
    result = column("result")
    check("result", f"isin {list(CONTACT_RESULTS)}", ~result.isin(CONTACT_RESULTS), result)
    note = column("note").astype(object)
    note = note.where(note.notna(), "")
    is_text = pd.Series([isinstance(v, str) for v in note.tolist()], index=index, dtype=bool)
    check("note", "text", ~is_text, note)
    length = note.where(is_text, "").astype("str").str.len()
    check("note", f"at most {MAX_NOTE_LENGTH} characters", length > MAX_NOTE_LENGTH,
          lambda: length.map(lambda k: f"{k} characters"))

    raw = column("contacted_at")
    given = raw.notna()
    if pd.api.types.is_numeric_dtype(raw.dtype) or pd.api.types.is_bool_dtype(raw.dtype):
        numbers = given.to_numpy()
    else:
        kinds = (bool, int, float, np.integer, np.floating)
        numbers = np.fromiter((isinstance(v, kinds) for v in raw.tolist()), bool, n) & given.to_numpy()
    ok = given & ~numbers
    # naive times are UTC, aware ones are converted to UTC (as in record_result)
    when = pd.to_datetime(raw.where(ok), utc=True, errors="coerce", format="mixed").astype("datetime64[us, UTC]")
    check("contacted_at", "a date and time", given & when.isna(), raw)
    when = when.where(when.notna(), pd.Timestamp(now))
    check("contacted_at", "not in the future", when > pd.Timestamp(now + CLOCK_SKEW),
          lambda: when.map(lambda v: v.isoformat()))

    request = column("client_request_id").astype(object)
    fresh = request.isna()
    request = request.where(~fresh, pd.Series([uuid.uuid4().hex for _ in range(int(fresh.sum()))],
                                              index=request.index[fresh], dtype=object))
    request = request.map(str)
    check("client_request_id", "1 to 64 characters", (request.str.len() < 1) | (request.str.len() > 64), request)
    check("client_request_id", "unique within the batch", request.duplicated(keep=False), request)

    executor = column("executor").astype(object)
    executor = executor.where(executor.notna(), None)
    named = executor.notna()
    bad_name = [v is not None and (not isinstance(v, str) or not v.strip() or len(v) > _EXECUTOR_LENGTH)
                for v in executor.tolist()]
    check("executor", f"text of at most {_EXECUTOR_LENGTH} characters", named & np.asarray(bad_name, bool),
          executor)
    if problems:
        lines = "; ".join(f"{p['column']}: {p['check']} failed for {p['count']} rows, e.g. {p['examples']}"
                          for p in problems)
        raise DataValidationError(f"contact_results: {len(problems)} check(s) failed: {lines}", problems)
    return pd.DataFrame({
        "member_id": mid.astype("int64"), "result": result.astype(object), "note": note,
        "contacted_at": when, "client_request_id": request, "executor": executor,
    })


def _known_request(session: StoreSession, request_id: str, member_id: int) -> RecordedResult | None:
    """The result stored before under ``request_id`` (a retried form), or None.

    Raises
    ------
    ParameterError
        When the id was used for another member.
    """
    row = session.execute(
        select(ContactResult.id, ContactResult.member_id).where(ContactResult.client_request_id == request_id)
    ).first()
    if row is None:
        return None
    if row.member_id != member_id:
        raise ParameterError(
            f"The 'client_request_id' {request_id!r} was already used for member {row.member_id}; "
            f"got it again for member {member_id}. Make a new id for each submitted form."
        )
    return RecordedResult(row.id, member_id, created=False)


class StoreResults(StoreCore):
    """Contact results (part of :class:`workbench.store.Store`)."""

    def record_result(self, user: User, member_id: int, result: str, note: str = "",
                      contacted_at: dt.datetime | None = None, client_request_id: str | None = None,
                      callback_at: dt.datetime | None = None) -> RecordedResult:
        """Record one contact attempt; idempotent on ``client_request_id``.

        Parameters
        ----------
        user : User
            The acting user: an executor (own rows and own branch), a branch
            manager (own branch) or an admin.
        member_id : int
            ``member_id`` of a worklist row.
        result : str
            One of :data:`workbench.store.models.CONTACT_RESULTS`.
        note : str
            Free text, at most :data:`MAX_NOTE_LENGTH` characters.
        contacted_at : datetime, optional
            When the contact happened (naive = UTC); default now.  Not in the future.
        client_request_id : str, optional
            Made once per submitted form by the app; sending the same id again
            (a retry after a timeout) returns the first result instead of a
            duplicate.  Default: a fresh UUID (no retry protection).
        callback_at : datetime, optional
            With ``result="call_back"`` only: when the customer asked to be called back (naive =
            UTC), not before ``contacted_at``.  The worklist lists callbacks by it.

        Returns
        -------
        RecordedResult
            ``created=False`` when the request had been recorded before; ``on_behalf_of`` the
            executor whose customer a manager recorded on (see the module's docstring).

        Raises
        ------
        AccessDenied
            When the row is outside the user's scope (even if the id is valid),
            the role does not record results, or a branch manager records on an
            executor's customer while the policy does not allow it.
        ParameterError
            Bad result / note / time / callback time, a control-group row, a closed
            campaign, or a ``client_request_id`` already used for another member.
        """
        if result not in CONTACT_RESULTS:
            raise ParameterError.invalid("result", f"one of {list(CONTACT_RESULTS)}", result)
        if not isinstance(note, str) or len(note) > MAX_NOTE_LENGTH:
            raise ParameterError.invalid("note", f"a string of at most {MAX_NOTE_LENGTH} characters",
                                         note if not isinstance(note, str) else f"{len(note)} characters")
        now = utcnow()
        if contacted_at is None:
            contacted_at = now
        if not isinstance(contacted_at, dt.datetime):
            raise ParameterError.invalid("contacted_at", "a datetime", contacted_at)
        if contacted_at.tzinfo is None:
            contacted_at = contacted_at.replace(tzinfo=dt.timezone.utc)
        request_id = str(client_request_id) if client_request_id is not None else uuid.uuid4().hex
        if not request_id or len(request_id) > 64:
            raise ParameterError.invalid("client_request_id", "1 to 64 characters", client_request_id)
        if callback_at is not None:
            if result != "call_back":
                raise ParameterError.invalid("callback_at", "empty unless the result is 'call_back'", callback_at)
            if not isinstance(callback_at, dt.datetime):
                raise ParameterError.invalid("callback_at", "a datetime", callback_at)
            if callback_at.tzinfo is None:
                callback_at = callback_at.replace(tzinfo=dt.timezone.utc)
            if callback_at < contacted_at:
                raise ParameterError.invalid("callback_at", f"not before the contact ({contacted_at.isoformat()})",
                                             callback_at.isoformat())
        try:
            return self._record(user, int(member_id), result, note, contacted_at, request_id, callback_at)
        except IntegrityError:
            # a concurrent retry with the same client_request_id won the race
            previous = self._previous_request(request_id, int(member_id))
            if previous is None:
                raise
            return previous

    def _previous_request(self, request_id: str, member_id: int) -> RecordedResult | None:
        with self._session() as session:
            return _known_request(session, request_id, member_id)

    def _record(self, user: User, member_id: int, result: str, note: str, contacted_at: dt.datetime,
                request_id: str, callback_at: dt.datetime | None = None) -> RecordedResult:
        with self._session(write=True) as session:
            actor = self._actor(session, user)
            require_role(actor, RESULT_WRITERS, "recording a contact result")
            row = session.execute(
                select(CampaignMember.branch_id, CampaignMember.executor, CampaignMember.group,
                       CampaignVersion.campaign_id, CampaignVersion.released_at, CampaignVersion.spec, Campaign.status)
                .join(CampaignVersion, CampaignMember.campaign_version_id == CampaignVersion.id)
                .join(Campaign, CampaignVersion.campaign_id == Campaign.id)
                .where(CampaignMember.id == member_id)
            ).first()
            if row is None or not can_write_member(actor, row.branch_id, row.executor, self.policy):
                if row is None and sees_missing_members(actor):
                    raise ParameterError(f"The 'member_id' parameter names no campaign member. Got {member_id}.")
                raise AccessDenied(
                    f"member {member_id} is not in the scope of user {actor.name!r} "
                    f"(role {actor.role!r}, branch {actor.branch_id!r})"
                )
            behalf = on_behalf_of(actor, row.executor)
            previous = _known_request(session, request_id, member_id)
            if previous is not None:
                return RecordedResult(previous.result_id, member_id, False, behalf)
            if row.released_at is None:
                raise ParameterError(f"member {member_id} belongs to an unreleased version; release it first")
            if row.status == "closed":
                raise ParameterError(f"campaign {row.campaign_id} is closed; results are no longer accepted")
            if row.group != "target":
                raise ParameterError(
                    f"member {member_id} is in the {row.group!r} group, which must not be contacted"
                )
            earliest, latest = campaign_start(row.spec, row.released_at), utcnow() + CLOCK_SKEW
            if not earliest <= contacted_at <= latest:
                raise ContactTimeError(contacted_at, earliest, latest)
            entry = ContactResult(member_id=member_id, executor=actor.name, result=result, note=note,
                                  contacted_at=contacted_at, recorded_at=utcnow(), client_request_id=request_id,
                                  callback_at=callback_at)
            session.add(entry)
            session.flush()
            extra = {"on_behalf_of": behalf} if behalf else {}
            self._audit(session, actor, "record_result", row.campaign_id, member_id=member_id, result=result,
                        result_id=entry.id, client_request_id=request_id, **extra)
            return RecordedResult(entry.id, member_id, created=True, on_behalf_of=behalf)

    def record_results(self, user: User, frame: pd.DataFrame) -> pd.DataFrame:
        """Record many contact attempts in one transaction; idempotent on ``client_request_id``.

        The bulk path for a dialler's log, a file of results from a branch, or a
        simulated execution: every row is checked as :meth:`record_result`
        checks one, then all new rows are written together with **one** audit
        row (action ``record_results``) summarising the batch.  Nothing is
        written when any row is refused.

        Parameters
        ----------
        user : User
            The acting user: an executor (own rows and rows of own branch, only
            on their own behalf), a branch manager (rows of own branch) or an
            admin (any row).
        frame : pandas.DataFrame
            One row per contact attempt, columns :data:`RESULT_BATCH_COLUMNS`:

            ``member_id`` (required)
                ``member_id`` of a worklist row (target group of a released,
                open campaign).
            ``result`` (required)
                One of :data:`workbench.store.models.CONTACT_RESULTS`.
            ``contacted_at``
                When the contact happened (naive = UTC; empty = now); not in the future.
            ``note``
                Free text, at most :data:`MAX_NOTE_LENGTH` characters (empty = "").
            ``client_request_id``
                1 to 64 characters, unique within the batch; a row whose id
                was recorded before for the same member is not written again
                (a retried upload).  Empty: a fresh UUID (no retry protection).
            ``executor``
                Who made the contact, recorded on their behalf (empty: the acting user).

            Other columns are ignored.

        Returns
        -------
        pandas.DataFrame
            Aligned with ``frame``'s rows, columns :data:`RECORDED_BATCH_COLUMNS`:
            ``member_id``, ``client_request_id``, ``result_id`` (the stored row)
            and ``created`` (False for a row recorded before).

        Raises
        ------
        DataValidationError
            Listing every failed check of the rows (lazy): a member id that is
            not an integer, an unknown result, a note too long, a time that is
            not a time or lies in the future, a request id repeated in the
            batch or too long, an executor name too long.
        AccessDenied
            When the role does not record results, an executor records on
            someone else's behalf, or any row is outside the user's scope (even
            if the id is valid; a branch manager's row on an executor's customer
            must name that executor as who made the contact, unless the policy
            lets managers record for executors).
        ParameterError
            A member id that names no member (admins; others get AccessDenied),
            a control-group row, an unreleased version, a closed campaign, or a
            ``client_request_id`` already used for another member.

        Examples
        --------
        >>> batch = pd.DataFrame({"member_id": [11, 12], "result": ["reached", "not_reachable"],
        ...                       "contacted_at": pd.to_datetime(["2026-11-03 02:00", "2026-11-03 02:05"]),
        ...                       "client_request_id": ["dialler-1", "dialler-2"], "executor": "ex_u1"})
        >>> store.record_results(manager, batch)["created"].tolist()   # doctest: +SKIP
        [True, True]
        """
        rows = _validate_results(frame, utcnow())
        for attempt in range(_BATCH_ATTEMPTS):
            try:
                return self._record_many(user, rows)
            except IntegrityError:
                # a concurrent upload stored some of the same request ids first: the next pass skips them
                if attempt == _BATCH_ATTEMPTS - 1:
                    raise

    @staticmethod
    def _check_times(session: StoreSession, when: pd.Series, version_ids: pd.Series) -> None:
        """Refuse a batch with a contact time before its campaign's start or after now (ContactTimeError)."""
        versions = sorted(int(x) for x in pd.unique(version_ids))
        specs = session.execute(select(CampaignVersion.id, CampaignVersion.spec, CampaignVersion.released_at)
                                .where(CampaignVersion.id.in_(versions))).all()
        starts = {row.id: pd.Timestamp(campaign_start(row.spec, row.released_at)) for row in specs}
        earliest = pd.Series(version_ids.to_numpy(np.int64), index=when.index).map(starts)
        latest = pd.Timestamp(utcnow() + CLOCK_SKEW)
        bad = ((when < earliest) | (when > latest)).to_numpy(bool)
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            raise ContactTimeError(when.iloc[first].to_pydatetime(), earliest.iloc[first].to_pydatetime(),
                                   latest.to_pydatetime(), count=int(bad.sum()))

    def _record_many(self, user: User, rows: pd.DataFrame) -> pd.DataFrame:
        from tqdm.auto import tqdm

        m, v, c, r = CampaignMember, CampaignVersion, Campaign, ContactResult
        out = pd.DataFrame({"member_id": rows["member_id"], "client_request_id": rows["client_request_id"],
                            "result_id": pd.array([pd.NA] * len(rows), dtype="Int64"), "created": False})
        with self._session(write=True) as session:
            actor = self._actor(session, user)
            require_role(actor, RESULT_WRITERS, "recording contact results")
            rows = rows.assign(executor=rows["executor"].where(rows["executor"].notna(), actor.name))
            if not len(rows):
                return out[list(RECORDED_BATCH_COLUMNS)]
            if not may_record_for_others(actor):
                others = rows["executor"] != actor.name
                if others.any():
                    raise AccessDenied(
                        f"user {actor.name!r} (role 'executor') records results only on their own behalf; "
                        f"{int(others.sum())} rows name other executors, e.g. "
                        f"{sorted(rows.loc[others, 'executor'].unique().tolist())[:5]}"
                    )
            ids = np.unique(rows["member_id"].to_numpy(np.int64))
            chunks = [ids[i:i + _IN_CHUNK] for i in range(0, len(ids), _IN_CHUNK)]
            bar = tqdm(chunks, desc="contact results: members", unit="chunk",
                       disable=not self.show_progress or len(chunks) < 2)
            lookup = (select(m.id.label("member_id"), m.branch_id, m.executor.label("assigned"), m.group,
                             m.campaign_version_id, v.campaign_id, v.released_at, c.status)
                      .join(v, m.campaign_version_id == v.id).join(c, v.campaign_id == c.id))
            parts = []
            for chunk in bar:
                lo, hi = int(chunk[0]), int(chunk[-1])
                if hi - lo < 4 * len(chunk):   # a list's ids are dense: a range scan beats a long IN list
                    part = _frame(session.execute(lookup.where(m.id.between(lo, hi))))
                    part = part[part["member_id"].isin(chunk)] if len(part) else part
                else:
                    part = _frame(session.execute(lookup.where(m.id.in_(chunk.tolist()))))
                parts.append(part)
            known = pd.concat(parts, ignore_index=True).set_index("member_id")
            absent = np.setdiff1d(ids, known.index.to_numpy(np.int64))
            if len(absent):
                if sees_missing_members(actor):
                    raise ParameterError(
                        f"The 'member_id' column names {len(absent)} members that do not exist, e.g. "
                        f"{absent[:5].tolist()}."
                    )
                raise AccessDenied(f"{len(absent)} members, e.g. {absent[:5].tolist()}, are not in the scope of user "
                                   f"{actor.name!r} (role {actor.role!r}, branch {actor.branch_id!r})")
            branch = known["branch_id"].to_dict()
            assigned = known["assigned"].to_dict()
            pairs = set(zip(rows["member_id"].tolist(), rows["executor"].tolist()))
            outside = sorted({int(i) for i, by in pairs
                              if not can_write_member(actor, branch[i], assigned[i], self.policy, contact_by=by)})
            if outside:
                raise AccessDenied(
                    f"{len(outside)} members, e.g. {outside[:5]}, are not in the scope of user {actor.name!r} "
                    f"(role {actor.role!r}, branch {actor.branch_id!r})"
                )

            # idempotency: request ids stored before
            requests = rows["client_request_id"].tolist()
            previous = {}
            for i in range(0, len(requests), _IN_CHUNK):
                found = session.execute(
                    select(r.client_request_id, r.id, r.member_id)
                    .where(r.client_request_id.in_(requests[i:i + _IN_CHUNK]))
                ).all()
                previous.update({row.client_request_id: (row.id, row.member_id) for row in found})
            stored = pd.Series(np.fromiter((q in previous for q in requests), bool, len(requests)), index=rows.index)
            if stored.any():
                prev_member = rows.loc[stored, "client_request_id"].map(lambda q: previous[q][1])
                clash = prev_member.to_numpy(np.int64) != rows.loc[stored, "member_id"].to_numpy(np.int64)
                if clash.any():
                    first = rows.loc[stored].iloc[int(np.flatnonzero(clash)[0])]
                    raise ParameterError(
                        f"The 'client_request_id' {first['client_request_id']!r} was already used for member "
                        f"{previous[first['client_request_id']][1]}; got it again for member {first['member_id']} "
                        f"({int(clash.sum())} such rows). Make a new id for each contact."
                    )
                out.loc[stored, "result_id"] = rows.loc[stored, "client_request_id"].map(
                    lambda q: previous[q][0]).astype("int64")

            new = rows[~stored]
            state = known.loc[new["member_id"].to_numpy(np.int64)]
            for mask, message in (
                (state["released_at"].isna(), "belong to an unreleased version; release it first"),
                (state["status"] == "closed", "belong to a closed campaign; results are no longer accepted"),
                (state["group"] != "target", "are in the 'control' group, which must not be contacted"),
            ):
                mask = mask.to_numpy(bool)
                if mask.any():
                    who = np.unique(new["member_id"].to_numpy(np.int64)[mask])
                    raise ParameterError(f"{len(who)} members, e.g. {who[:5].tolist()}, {message}")
            if len(new):
                self._check_times(session, new["contacted_at"], state["campaign_version_id"])

            campaigns = sorted(int(x) for x in pd.unique(known.loc[ids, "campaign_id"]))
            if len(new):
                recorded_at = utcnow()
                values = [
                    {"member_id": int(mid), "executor": ex, "result": res, "note": note,
                     "contacted_at": at, "recorded_at": recorded_at, "client_request_id": req}
                    for mid, ex, res, note, at, req in zip(
                        new["member_id"].tolist(), new["executor"].tolist(), new["result"].tolist(),
                        new["note"].tolist(), new["contacted_at"].dt.to_pydatetime().tolist(),
                        new["client_request_id"].tolist())
                ]
                table = r.__table__
                statement = insert(table).returning(table.c.id, table.c.client_request_id)
                step = self.chunk_size
                starts = range(0, len(values), step)
                bar = tqdm(starts, desc="contact results", unit="chunk",
                           disable=not self.show_progress or len(starts) < 2)
                made = {}
                for start in bar:
                    made.update({row.client_request_id: row.id
                                 for row in session.execute(statement, values[start:start + step])})
                fresh = ~stored
                out.loc[fresh, "result_id"] = rows.loc[fresh, "client_request_id"].map(made).astype("int64")
                out.loc[fresh, "created"] = True
            counts = new["result"].value_counts()
            executors = sorted(new["executor"].unique().tolist())
            self._audit(
                session, actor, "record_results", campaigns[0] if len(campaigns) == 1 else None,
                rows=len(rows), created=int(len(new)), already_stored=int(stored.sum()),
                campaigns=campaigns, members=int(new["member_id"].nunique()),
                results={k: int(counts.get(k, 0)) for k in CONTACT_RESULTS if counts.get(k, 0)},
                executors=executors[:50], executor_count=len(executors),
                contacted_from=new["contacted_at"].min().isoformat() if len(new) else None,
                contacted_to=new["contacted_at"].max().isoformat() if len(new) else None,
            )
        out["created"] = out["created"].astype(bool)
        return out[list(RECORDED_BATCH_COLUMNS)]

"""Executor lists: the rows a branch works, masked phone numbers, talking points, exports.

A list row carries what an executor needs for one contact - who, through which
channel, the score band, why the user was chosen, the recommended edition and
talking points - in the columns of the campaign store's released list
(:data:`LIST_COLUMNS`, equal to ``workbench.store.MEMBER_COLUMNS``).

Phone numbers are personal data.  Rows always carry the *masked* number
(``138****1234``); an export shows full numbers only to a role in
:data:`NUMBER_VISIBLE_ROLES` and only when the caller passes the numbers (who
may see them is decided in :mod:`workbench.store.access`, re-exported here).
:func:`export_list` returns what it wrote (:class:`ExportResult`) so the caller
can put it in the audit log.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from workbench.checks import require_columns
from workbench.campaign.spec import BY_PREFERENCE
from workbench.data.tables import table
from workbench.errors import DataValidationError, ParameterError
from workbench.i18n import catalogue, t
from workbench.store.access import NUMBER_VISIBLE_ROLES, can_see_numbers
from workbench.store.models import ROLES

__all__ = [
    "LIST_COLUMNS",
    "MSISDN",
    "NUMBER_VISIBLE_ROLES",
    "KNOWN_ROLES",
    "EXPORT_FORMATS",
    "ExportResult",
    "can_see_numbers",
    "mask_msisdn",
    "talking_points",
    "build_list",
    "export_list",
]

_SUBSCRIBERS = table("subscribers")
SUBSCRIBER_ID: str = _SUBSCRIBERS.column("subscriber_id").name
BRANCH_ID: str = _SUBSCRIBERS.column("branch_id").name
#: The phone number column of the data model (personal data).
MSISDN: str = _SUBSCRIBERS.column("msisdn").name
#: Columns of a list row, in order (the campaign store's ``MEMBER_COLUMNS``).
LIST_COLUMNS: tuple[str, ...] = (
    SUBSCRIBER_ID, BRANCH_ID, "group", "score", "score_band", "channel", "executor",
    "reasons", "edition", "talking_points", "msisdn_masked",
)
#: Roles of the workbench (the campaign store's ``ROLES``).
KNOWN_ROLES: tuple[str, ...] = ROLES
#: Export formats by file suffix.
EXPORT_FORMATS: dict[str, str] = {".csv": "csv", ".xlsx": "xlsx"}


def mask_msisdn(numbers: pd.Series) -> pd.Series:
    """Mask phone numbers: ``13812341234`` -> ``138****1234``.

    Eleven-digit numbers keep the first three and last four digits; anything
    else is masked entirely (one ``*`` per character); missing stays missing.

    Examples
    --------
    >>> import pandas as pd
    >>> mask_msisdn(pd.Series(["13812341234", "12345", None])).tolist()
    ['138****1234', '*****', nan]
    """
    s = pd.Series(numbers, copy=False).astype("str")
    eleven = s.str.fullmatch(r"\d{11}").fillna(False).astype(bool)
    masked = s.str.slice(0, 3) + "****" + s.str.slice(7, 11)
    other = s.str.replace(r".", "*", regex=True)
    return masked.where(eleven, other)


def talking_points(channel: str, edition: str | None, *, free_months: int = 0, lang: str | None = None) -> str:
    """Talking points for one channel and edition, from the label catalogue.

    The channel's opening (``campaign.talk.channel.<channel>``), the edition's
    pitch (``campaign.talk.edition.<edition>``, a generic one for an edition
    without its own) and the free months of the promotion.
    """
    parts = [t(f"campaign.talk.channel.{channel}", lang=lang)]
    if edition and edition != BY_PREFERENCE:
        key = f"campaign.talk.edition.{edition}"
        parts.append(t(key, lang=lang) if key in catalogue() else t("campaign.talk.edition.other", lang=lang,
                                                                      edition=edition))
    if free_months:
        parts.append(t("campaign.talk.free_months", lang=lang, months=free_months))
    return " ".join(parts)


def _by_id(name: str, value, ids: pd.Series, id_col: str, column: str) -> pd.Series | None:
    """Values per row from a Series indexed by id or a DataFrame (id_col, column)."""
    if value is None:
        return None
    if isinstance(value, pd.DataFrame):
        require_columns(value, name, [id_col, column])
        value = value.set_index(id_col)[column]
    if not isinstance(value, pd.Series):
        raise ParameterError.invalid(name, f"a Series indexed by {id_col!r} or a DataFrame ({id_col}, {column})",
                                     type(value).__name__)
    if value.index.has_duplicates:
        raise DataValidationError(f"{name}: one value per {id_col!r} expected; the index repeats")
    return pd.Series(value.reindex(ids.to_numpy()).to_numpy(), index=ids.index)


def build_list(assigned: pd.DataFrame, *, msisdn=None, reasons=None, editions=None, edition: str | None = None,
               free_months: int = 0, group: str = "target", lang: str | None = None,
               id_col: str = SUBSCRIBER_ID, branch_col: str = BRANCH_ID) -> pd.DataFrame:
    """List rows (:data:`LIST_COLUMNS`) from an :func:`~workbench.campaign.assign_executors` result.

    Parameters
    ----------
    assigned : DataFrame
        ``id_col``, ``branch_col``, ``channel``, ``score``, ``score_band``,
        ``executor`` (a ``group`` column, if present, is kept).
    msisdn : Series or DataFrame, optional
        Phone numbers: a Series indexed by subscriber id, or a DataFrame with
        ``id_col`` and ``msisdn``.  Only the masked form enters the rows.
    reasons : Series or DataFrame, optional
        Why each user was chosen (readable text), by subscriber id.
    editions : Series or DataFrame, optional
        Recommended edition per user (e.g. from the preference model).
    edition : str, optional
        One edition for everyone (the spec's ``offer.edition``), used where
        ``editions`` has none.
    free_months : int
        Free months of the promotion, for the talking points.
    group : str
        Group of the rows when ``assigned`` has no ``group`` column.
    lang : {"zh", "en"}, optional
        Language of the talking points.

    Returns
    -------
    DataFrame
        One row per user with the columns :data:`LIST_COLUMNS`.
    """
    need = [id_col, branch_col, "channel", "score", "score_band", "executor"]
    require_columns(assigned, "assigned", need)
    ids = assigned[id_col].reset_index(drop=True)
    rows = assigned[need].reset_index(drop=True)
    rows["group"] = assigned["group"].to_numpy() if "group" in assigned.columns else group
    why = _by_id("reasons", reasons, ids, id_col, "reasons")
    rows["reasons"] = why if why is not None else None
    per_user = _by_id("editions", editions, ids, id_col, "edition")
    fallback = None if edition in (None, BY_PREFERENCE) else edition
    if per_user is None:
        per_user = pd.Series([fallback] * len(ids), dtype=object)
    elif fallback is not None:
        per_user = per_user.fillna(fallback)
    rows["edition"] = per_user
    # talking points: one catalogue look-up per (channel, edition) pair, then mapped
    key = rows["channel"].astype(str) + "|" + per_user.fillna("").astype(str)
    texts = {k: talking_points(k.split("|", 1)[0], k.split("|", 1)[1] or None, free_months=free_months, lang=lang)
             for k in key.unique()}
    rows["talking_points"] = key.map(texts)
    numbers = _by_id("msisdn", msisdn, ids, id_col, MSISDN)
    rows["msisdn_masked"] = mask_msisdn(numbers) if numbers is not None else None
    out = rows[list(LIST_COLUMNS)]
    for col in ("group", "score_band", "channel", "executor", "reasons", "edition", "talking_points",
                "msisdn_masked", branch_col):
        out[col] = out[col].astype("str")
    return out


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export_list` wrote, for the audit log.

    Attributes
    ----------
    path : str
    format : {"csv", "xlsx"}
    rows : int
    role : str
    masked : bool
        True when the file holds only masked phone numbers.
    columns : tuple of str
    sha256 : str
        Hash of the file written.
    """

    path: str
    format: str
    rows: int
    role: str
    masked: bool
    columns: tuple[str, ...]
    sha256: str

    def to_dict(self) -> dict:
        return {"path": self.path, "format": self.format, "rows": self.rows, "role": self.role,
                "masked": self.masked, "columns": list(self.columns), "sha256": self.sha256}


def export_list(rows: pd.DataFrame, path, *, role: str, msisdn=None, lang: str | None = None,
                id_col: str = SUBSCRIBER_ID) -> ExportResult:
    """Write list rows to CSV (UTF-8 with BOM, opens in Excel) or Excel (``.xlsx``).

    Phone numbers are masked unless ``role`` may see numbers
    (:func:`can_see_numbers`) *and* the full numbers are passed as ``msisdn``;
    then the file gets an ``msisdn`` column with full numbers instead of
    ``msisdn_masked``.

    Parameters
    ----------
    rows : DataFrame
        :func:`build_list` output (or any frame with ``id_col``).
    path : str or Path
        Target file; the suffix chooses the format (:data:`EXPORT_FORMATS`).
    role : str
        Role of the person the file is for.
    msisdn : Series or DataFrame, optional
        Full numbers by subscriber id (only used for a permitted role).
    lang : {"zh", "en"}, optional
        Column headers from the catalogue (``campaign.list.col.*``) in this
        language; ``None`` keeps the column names.

    Returns
    -------
    ExportResult

    Raises
    ------
    ParameterError
        Unknown role or file suffix.
    """
    allowed = can_see_numbers(role)
    path = Path(path)
    fmt = EXPORT_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ParameterError.invalid("path", f"a file name ending in one of {list(EXPORT_FORMATS)}", str(path))
    if not isinstance(rows, pd.DataFrame) or id_col not in rows.columns:
        raise ParameterError.invalid("rows", f"a DataFrame with {id_col!r} (build_list output)",
                                     type(rows).__name__)
    out = rows.copy()
    masked = True
    if allowed and msisdn is not None:
        full = _by_id("msisdn", msisdn, out[id_col].reset_index(drop=True), id_col, MSISDN)
        out.insert(list(out.columns).index("msisdn_masked") if "msisdn_masked" in out.columns else len(out.columns),
                   MSISDN, full.to_numpy())
        out = out.drop(columns=["msisdn_masked"], errors="ignore")
        masked = False
    elif MSISDN in out.columns:  # never let plain numbers out for a role that may not see them
        out[MSISDN] = mask_msisdn(out[MSISDN])
    columns = tuple(out.columns)
    if lang is not None:
        out.columns = [t(f"campaign.list.col.{c}", lang=lang) if f"campaign.list.col.{c}" in catalogue() else c
                       for c in out.columns]
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        out.to_csv(path, index=False, encoding="utf-8-sig")
    else:
        out.to_excel(path, index=False, engine="openpyxl")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return ExportResult(str(path), fmt, int(len(out)), role, masked, columns, digest)

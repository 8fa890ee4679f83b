"""Publish a run folder's results for operations: versioned, with an atomic switch of the current version.

What is published, per kind (``published_versions.kind``):

==========  =========================================  ================================================
kind        from the run folder                        a row per subscriber holds
==========  =========================================  ================================================
target      ``scores.parquet`` (template 03)           score, decile, reasons (zh/en), offers (every
                                                       subscriber: eligibility answers for all products)
credit      the credit grades (template 07)            score, grade
trigger     the trigger list (template 08)             score (when given), reasons (when given)
==========  =========================================  ================================================

Rows are written while the version is ``loading``, in batches; one transaction then
makes it ``current`` and the previous one ``retired``
(:class:`workbench.store.published.StorePublished`).  A failure on the way marks
the new version ``failed`` and leaves the previous one current.

``reasons`` is a JSON list of ``{"code", "value", "band", "zh", "en"}``: template 03 keeps
each reason as a code (feature, value, band) next to its words; both languages are worded
from the code (:mod:`workbench.ops.reasons`).  Scores without codes (an older run) repeat
their text in both languages (``code`` ``reason``).  ``offers`` is a JSON list over every product
of ``{"product", "eligible", "reason"}`` (:mod:`workbench.ops.eligibility`).
"""
from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pandas as pd

from workbench.checks import check_date
from workbench.data.source import connection
from workbench.errors import ParameterError
from workbench.ops.eligibility import DEFAULT_EXCLUDED_GRADES, offers_sql
from workbench.ops.reasons import reason_words, text_words
from workbench.runs import RunFileMissing, RunFolder, path_hash

__all__ = ["CREDIT_FILES", "TRIGGER_FILES", "SCORE_NAMES", "publish_run", "target_rows", "credit_rows",
           "trigger_rows", "run_data", "demo_publish", "available_kinds"]

#: Files a credit run may leave (the first found is used): template 07's grades.
CREDIT_FILES: tuple[str, ...] = ("credit_grades.parquet", "credit/grades.parquet", "grades.parquet")
#: Files a trigger run may leave: template 08's list.
TRIGGER_FILES: tuple[str, ...] = ("triggers.parquet", "trigger_list.parquet", "triggers/list.parquet")
#: Columns taken as a row's score, in order of preference.
SCORE_NAMES: tuple[str, ...] = ("score", "p_bad", "pd", "probability", "bad_probability", "points")
_REASON_SLOTS = ("reason_1", "reason_2", "reason_3")


def _runs_name(attr: str) -> str | None:
    """A file name the run folder's owner (:mod:`workbench.runs`) defines, when it does."""
    import workbench.runs as runs

    value = getattr(runs, attr, None)
    return value if isinstance(value, str) else None


def _find(folder: RunFolder, names: tuple[str, ...], attr: str) -> Path | None:
    own = _runs_name(attr)
    for name in ((own,) if own else ()) + names:
        path = folder.path / name
        if path.is_file():
            return path
    return None


def available_kinds(run_dir) -> list[str]:
    """The kinds a run folder can publish (those whose files it holds)."""
    folder = RunFolder.of(run_dir)
    kinds = ["target"] if folder.exists("scores") else []
    if _find(folder, CREDIT_FILES, "CREDIT_GRADES_FILE"):
        kinds.append("credit")
    if _trigger_source(folder):
        kinds.append("trigger")
    return kinds


def run_data(run_dir, data=None):
    """The province data a run used: ``data`` when given, else the ``data`` parameter its steps recorded."""
    if data is not None and not isinstance(data, (str, os.PathLike)):
        return data    # tables already open: a mapping of DataFrames, a Source, a DuckDB connection
    if data:
        return Path(data)
    for record in RunFolder.of(run_dir).steps().values():
        value = (record.get("parameters") or {}).get("data")
        if value and Path(value).exists():
            return Path(value)
    from workbench.workspace import find_workspace

    ws = find_workspace()
    if ws is not None and ws.data.exists():
        return ws.data
    raise ParameterError(f"The 'data' parameter is required: the run folder {str(run_dir)!r} records no data "
                         "folder and no workspace names one. Pass --data DIR.")


# ------------------------------------------------------------------ rows of each kind
def _subscribers(data) -> pd.DataFrame:
    from workbench.campaign.lists import mask_msisdn

    with connection(data, progress=False) as con:
        subs = con.execute("SELECT subscriber_id, branch_id, msisdn FROM subscribers ORDER BY 1").df()
    subs["msisdn_masked"] = mask_msisdn(subs.pop("msisdn"))
    return subs


def target_rows(run_dir, data, *, credit: pd.DataFrame | None = None, as_of=None,
                excluded_grades: tuple[str, ...] = DEFAULT_EXCLUDED_GRADES) -> pd.DataFrame:
    """The ``target`` rows: every subscriber with template 03's score (when scored) and the offers JSON.

    Raises
    ------
    RunFileMissing
        The run folder holds no ``scores.parquet``.
    """
    folder = RunFolder.of(run_dir)
    scores = folder.read_scores()
    coded = all(f"{c}_code" in scores.columns for c in _REASON_SLOTS if c in scores.columns)
    keys = {c: f"{c}_code" if coded else c for c in _REASON_SLOTS if c in scores.columns}
    words = (reason_words if coded else text_words)(pd.concat([scores[k] for k in keys.values()]))
    with connection(data, progress=False) as con:
        subs = _subscribers(con)
        con.execute("CREATE OR REPLACE TEMP TABLE offers_in AS "
                    + offers_sql(con, credit=credit, as_of=as_of, excluded_grades=excluded_grades))
        con.register("scores_in", scores)
        con.register("subs_in", subs)
        con.register("words_in", words.reset_index())
        slots = list(keys.values())
        joins = " ".join(f"LEFT JOIN words_in w{i} ON w{i}.key = sc.{c}" for i, c in enumerate(slots))
        structs = ", ".join(f"CASE WHEN w{i}.key IS NULL THEN NULL ELSE {{'code': w{i}.code, 'value': w{i}.value, "
                            f"'band': w{i}.band, 'zh': w{i}.zh, 'en': w{i}.en}} END" for i in range(len(slots)))
        reasons = (f"CASE WHEN len(list_filter([{structs}], lambda x: x IS NOT NULL)) = 0 THEN NULL ELSE "
                   f"to_json(list_filter([{structs}], lambda x: x IS NOT NULL))::VARCHAR END" if slots else "NULL")
        frame = con.execute(f"""
            SELECT s.subscriber_id, s.branch_id, s.msisdn_masked, sc.score::DOUBLE AS score,
                   NULL::VARCHAR AS grade, sc.decile::INTEGER AS decile, {reasons} AS reasons, o.offers
            FROM subs_in s LEFT JOIN scores_in sc ON sc.subscriber_id = s.subscriber_id
            LEFT JOIN offers_in o ON o.subscriber_id = s.subscriber_id {joins}
            ORDER BY s.subscriber_id""").df()
        con.execute("DROP TABLE IF EXISTS offers_in")    # a caller's open connection is left as it was
        for name in ("scores_in", "subs_in", "words_in"):
            con.unregister(name)
    return frame


def _read_parquet(path: Path, what: str) -> pd.DataFrame:
    from workbench.data.files import read_table

    frame = read_table(path, parameter=what)
    if "subscriber_id" not in frame.columns:
        raise ParameterError(f"{path}: the {what} file must have a 'subscriber_id' column. Got {list(frame.columns)}.")
    return frame


def credit_grades(run_dir) -> pd.DataFrame | None:
    """``subscriber_id, grade`` (and a score column when given) of the run's credit grades, or None."""
    path = _find(RunFolder.of(run_dir), CREDIT_FILES, "CREDIT_GRADES_FILE")
    if path is None:
        return None
    frame = _read_parquet(path, "credit grades")
    if "grade" not in frame.columns:
        raise ParameterError(f"{path}: the credit grades file must have a 'grade' column. Got {list(frame.columns)}.")
    return frame


def _score_of(frame: pd.DataFrame) -> pd.Series:
    for name in SCORE_NAMES:
        if name in frame.columns:
            return pd.to_numeric(frame[name], errors="coerce")
    return pd.Series(float("nan"), index=frame.index)


def _with_subscribers(frame: pd.DataFrame, data) -> pd.DataFrame:
    subs = _subscribers(data)
    out = frame.merge(subs, on="subscriber_id", how="inner", validate="one_to_one")
    return out.sort_values("subscriber_id", kind="stable").reset_index(drop=True)


def credit_rows(run_dir, data) -> pd.DataFrame:
    """The ``credit`` rows: every graded subscriber's grade and score."""
    grades = credit_grades(run_dir)
    if grades is None:
        raise RunFileMissing(f"The run folder {str(run_dir)!r} holds no credit grades ({list(CREDIT_FILES)}): "
                             "run template 07_credit_grading with this run_dir first.")
    frame = pd.DataFrame({"subscriber_id": grades["subscriber_id"].astype("int64"),
                          "score": _score_of(grades), "grade": grades["grade"].astype("str"),
                          "decile": pd.array([None] * len(grades), dtype="Int64"), "reasons": None,
                          "offers": None}).drop_duplicates("subscriber_id")
    return _with_subscribers(frame, data)


def _trigger_source(folder: RunFolder) -> Path | None:
    """The run's trigger list: a file of :data:`TRIGGER_FILES`, else the newest day of template 08's
    ``triggers/<day>/`` (one CSV per channel, masked numbers)."""
    path = _find(folder, TRIGGER_FILES, "TRIGGERS_FILE")
    if path is not None:
        return path
    waves = folder.path / (_runs_name("TRIGGERS_DIR") or "triggers")
    days = sorted(d for d in waves.iterdir() if d.is_dir() and any(_channel_files(d))) if waves.is_dir() else []
    return days[-1] if days else None


def _channel_files(day: Path) -> list[Path]:
    return [f for f in sorted(day.glob("*.csv")) if f.stem != "funnel"]


def _read_triggers(path: Path) -> pd.DataFrame:
    from workbench.data.files import read_table

    if path.is_file():
        return _read_parquet(path, "trigger list")
    parts = [read_table(f, parameter="trigger list").assign(channel=f.stem) for f in _channel_files(path)]
    frame = pd.concat(parts, ignore_index=True)
    if "subscriber_id" not in frame.columns:
        raise ParameterError(f"{path}: the trigger files must have a 'subscriber_id' column. "
                             f"Got {list(frame.columns)}.")
    return frame


def _channel_word(channel: str, lang: str) -> str:
    from workbench.i18n import catalogue, t

    return t(f"channel.{channel}", lang) if f"channel.{channel}" in catalogue() else (channel or "-")


def _trigger_reasons(found: pd.DataFrame, data) -> pd.Series | None:
    """``[{"code": "trigger:<product>", "zh", "en"}]`` per row (product names from ``vas_products``)."""
    from workbench.i18n import t

    if "product_id" not in found.columns:
        return None
    with connection(data, progress=False) as con:
        cols = [r[0] for r in con.execute("DESCRIBE vas_products").fetchall()]
        names = (con.execute("SELECT product_id, name_zh, name_en FROM vas_products").df().set_index("product_id")
                 if {"name_zh", "name_en"} <= set(cols) else pd.DataFrame(columns=["name_zh", "name_en"]))
    channel = found["channel"] if "channel" in found.columns else pd.Series("", index=found.index)
    keys = pd.DataFrame({"product": found["product_id"].astype("str"), "channel": channel.astype("str")})
    words = {}
    for product, ch in keys.drop_duplicates().itertuples(index=False):
        zh = names["name_zh"].get(product, product) if len(names) else product
        en = names["name_en"].get(product, product) if len(names) else product
        words[(product, ch)] = json.dumps([{
            "code": f"trigger:{product}",
            "zh": t("ops.trigger.reason", "zh", product=zh, channel=_channel_word(ch, "zh")),
            "en": t("ops.trigger.reason", "en", product=en, channel=_channel_word(ch, "en")),
        }], ensure_ascii=False)
    return pd.Series([words[k] for k in keys.itertuples(index=False, name=None)], index=found.index, dtype="str")


def trigger_rows(run_dir, data) -> pd.DataFrame:
    """The ``trigger`` rows: the subscribers of the run's trigger list (score when given, the offered
    product and channel as the reason)."""
    path = _trigger_source(RunFolder.of(run_dir))
    if path is None:
        raise RunFileMissing(f"The run folder {str(run_dir)!r} holds no trigger list ({list(TRIGGER_FILES)} or "
                             "triggers/<day>/*.csv): run template 08_handset_triggers with this run_dir first.")
    found = _read_triggers(path).drop_duplicates("subscriber_id").reset_index(drop=True)
    frame = pd.DataFrame({"subscriber_id": found["subscriber_id"].astype("int64"), "score": _score_of(found),
                          "grade": None, "decile": pd.array([None] * len(found), dtype="Int64"),
                          "reasons": _trigger_reasons(found, data), "offers": None})
    return _with_subscribers(frame, data)


# ------------------------------------------------------------------ publishing
def _model_version(folder: RunFolder, kind: str, source: Path) -> str:
    digest = path_hash(folder.file("model")) if kind == "target" and folder.exists("model") else path_hash(source)
    return f"{kind}-{(digest or '')[:12]}"


def publish_run(store, user, run_dir, *, kinds=None, data=None, valid_from=None, valid_to=None,
                label: str = "", as_of=None, excluded_grades: tuple[str, ...] = DEFAULT_EXCLUDED_GRADES) -> list[dict]:
    """Publish the results of a run folder; return one summary per kind published.

    Parameters
    ----------
    store : workbench.store.Store
    user : workbench.store.User
        Must have a role of :data:`workbench.store.access.PUBLISH_ROLES`.
    run_dir : path
        The run folder.
    kinds : list of str, optional
        Kinds to publish (default: every kind the folder holds, :func:`available_kinds`).
    data : path, optional
        The province data (default: the one the run's steps recorded).
    valid_from, valid_to : date-like, optional
        Validity of the new versions (default: from today, open-ended).

    Returns
    -------
    list of dict
        ``{"version_id", "kind", "rows", "retired"}`` per kind.

    Raises
    ------
    RunFileMissing
        The run folder lacks the file of a kind asked for (e.g. no scores).
    ParameterError
        An unknown kind, or a bad date.
    """
    folder = RunFolder.of(run_dir)
    if not folder.path.is_dir():
        raise ParameterError.invalid("run_dir", "an existing run folder", str(run_dir))
    asked = list(kinds) if kinds else available_kinds(folder)
    if not asked:
        raise RunFileMissing(f"The run folder {str(run_dir)!r} holds nothing to publish: no scores.parquet "
                             "(template 03_target_model), no credit grades (07), no trigger list (08).")
    for kind in asked:
        if kind not in ("target", "credit", "trigger"):
            raise ParameterError.invalid("kind", "one of ['target', 'credit', 'trigger']", kind)
    start = check_date("valid_from", valid_from).date() if valid_from else dt.date.today()
    end = check_date("valid_to", valid_to).date() if valid_to else None
    source = run_data(folder, data)
    done = []
    for kind in asked:
        if kind == "target":
            frame = target_rows(folder, source, credit=credit_grades(folder), as_of=as_of,
                                excluded_grades=excluded_grades)
            path = folder.file("scores")
        elif kind == "credit":
            frame = credit_rows(folder, source)
            path = _find(folder, CREDIT_FILES, "CREDIT_GRADES_FILE")
        else:
            frame = trigger_rows(folder, source)
            path = _trigger_source(folder)
        version_id = store.create_published(
            user, kind, valid_from=start, valid_to=end, label=label or folder.path.name,
            model_version=_model_version(folder, kind, path), run_dir=str(folder.path.resolve()),
            source_sha256=path_hash(path) or "")
        try:
            store.load_published(user, version_id, frame)
            done.append(store.activate_published(user, version_id))
        except BaseException as exc:
            store.fail_published(user, version_id, f"{type(exc).__name__}: {exc}")
            raise
    return done


def demo_publish(data, run_dir, *, progress: bool = False) -> str:
    """The demo's ``publish`` step: publish the run's scores (and credit grades, triggers) into its store."""
    from workbench.i18n import t
    from workbench.store import SYSTEM_USER, Store

    folder = RunFolder.of(run_dir)
    if not available_kinds(folder):
        return t("ops.publish.demo_skipped", path=str(folder.path))
    url = None
    if folder.exists("campaign"):
        url = folder.read_campaign().get("store_url")
    if not url:
        from workbench.workspace import find_workspace

        ws = find_workspace()
        url = ws.store_url if ws is not None else folder.store_url()
    folder.step("publish", {"data": str(data), "run_dir": str(run_dir)})
    with Store(url, progress=progress) as store:
        done = publish_run(store, SYSTEM_USER, folder, data=data)
    folder.finish("publish")
    return t("ops.publish.demo_done", versions=", ".join(f"{d['kind']} #{d['version_id']} ({d['rows']:,})"
                                                          for d in done), store=url)

"""``workbench evaluate`` - the effect of a randomised campaign from one CSV or Parquet file.

Example (the well-known e-mail campaign data: arms "Mens E-Mail", "Womens E-Mail"
and the control "No E-Mail")::

    workbench evaluate --data mail.csv --arm segment --control "No E-Mail" \\
        --outcome visit --outcome conversion --outcome spend --by zip_code

prints, for each outcome, every arm against the control: units, rate (or mean),
absolute and relative lift with their confidence intervals and the p-value;
``--json`` prints the same as JSON (stable English keys, null for undefined).
The statistics are those of :func:`workbench.tracking.effect_table`.
"""
from __future__ import annotations

import argparse

from workbench.i18n import LANGUAGES
from workbench.report.format import MISSING, is_missing, number_text, p_text, pct_text, pp_text

__all__ = ["register", "table_columns", "expand_columns", "read_table", "format_effects", "effects_json"]


def register(subparsers) -> None:
    """Add ``evaluate`` to the ``workbench`` parser."""
    p = subparsers.add_parser(
        "evaluate", help="effect of a randomised campaign: lift, CI and p-value per arm and outcome",
        description="Compare every arm of a randomised campaign with the shared control group, for one or more "
                    "outcomes: units, rate or mean, absolute and relative lift with confidence intervals and "
                    "p-values (Newcombe / log-ratio / pooled z test for rates, Welch for means).",
        epilog='example: workbench evaluate --data mail.csv --arm segment --control "No E-Mail" '
               "--outcome visit --outcome conversion --outcome spend --by zip_code",
    )
    p.add_argument("--data", required=True, metavar="FILE",
                   help="CSV (.csv, .csv.gz, .txt) or Parquet file, one row per unit")
    p.add_argument("--arm", required=True, metavar="COL", help="column with the arm each unit was assigned to")
    p.add_argument("--control", required=True, metavar="VALUE",
                   help="arm value of the control group (\"0\" also matches a numeric 0)")
    p.add_argument("--outcome", required=True, action="extend", nargs="+", metavar="COL",
                   help="outcome column(s): 0/1, boolean, numeric, or text with --positive "
                        "(repeatable; 'a b' and 'a,b' also name several)")
    p.add_argument("--by", metavar="COL", help="also break the effects down by this column")
    p.add_argument("--positive", metavar="VALUE", help="for text outcomes, the value that counts as success")
    p.add_argument("--covariate", action="extend", nargs="+", default=[], metavar="COL",
                   help="numeric pre-period column(s) for CUPED and regression adjustment (repeatable)")
    p.add_argument("--planned-control-share", type=float, metavar="X",
                   help="planned share of all units in control, e.g. 0.1; adds a sample-ratio-mismatch check")
    p.add_argument("--alpha", type=float, default=0.05, metavar="A",
                   help="1 - coverage of the confidence intervals (default 0.05: 95%% intervals)")
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")
    p.add_argument("--lang", choices=LANGUAGES, help="language of the tables (default: $WORKBENCH_LANG or zh)")
    p.set_defaults(func=_evaluate)


# ------------------------------------------------------------------ reading
def table_columns(path) -> list[str]:
    """The column names of the ``--data`` file: :func:`workbench.data.files.table_columns`."""
    from workbench.data.files import table_columns as columns

    return columns(path, parameter="--data")


def expand_columns(names: list[str], available: list[str]) -> list[str]:
    """Split ``"a,b"`` into ``["a", "b"]`` when it is not itself a column but its parts are.

    Examples
    --------
    >>> expand_columns(["visit,spend", "conversion"], ["visit", "spend", "conversion"])
    ['visit', 'spend', 'conversion']
    """
    out: list[str] = []
    for name in names:
        parts = [p.strip() for p in name.split(",") if p.strip()]
        if name not in available and len(parts) > 1 and all(p in available for p in parts):
            out.extend(parts)
        else:
            out.append(name)
    return list(dict.fromkeys(out))


def read_table(path, columns: list[str]):
    """Read ``columns`` of the ``--data`` file, naming the available columns when one is missing
    (:func:`workbench.data.files.read_table`)."""
    from workbench.data.files import read_table as read

    return read(path, columns, parameter="--data")


# ------------------------------------------------------------------ formatting
def _num(v, digits: int = 4) -> str:
    return MISSING if is_missing(v) else f"{v:.{digits}g}"


def _decimals(reference) -> int:
    """Decimals that show a mean of about ``reference`` with four significant digits (0 to 4)."""
    import math

    if is_missing(reference) or reference == 0:
        return 2
    return max(0, min(4, 3 - math.floor(math.log10(abs(reference)))))


def _to_text(frame) -> str:
    import pandas as pd

    # align Chinese headings (two columns wide on a terminal)
    with pd.option_context("display.unicode.east_asian_width", True):
        return frame.to_string(index=False)


def format_effects(effects, *, alpha: float = 0.05, lang: str | None = None) -> str:
    """Readable text tables of an :func:`~workbench.tracking.effect_table` result, one per outcome.

    Parameters
    ----------
    effects : pandas.DataFrame
        Output of :func:`~workbench.tracking.effect_table`.
    alpha : float, default 0.05
        The alpha the table was computed with (for the interval heading).
    lang : {"zh", "en"}, optional
        Language of the headings.

    Returns
    -------
    str
    """
    import pandas as pd

    from workbench.i18n import t
    from workbench.tracking.effect import SEGMENT_COLUMN

    level = f"{100 * (1 - alpha):g}"
    ci = t("evaluate.col.ci", lang=lang, level=level)
    blocks = []
    for outcome, part in effects.groupby("outcome", sort=False):
        binary = part["kind"].iloc[0] == "binary"
        kind = t(f"evaluate.kind.{part['kind'].iloc[0]}", lang=lang)
        if binary:
            level_fmt, lift_fmt = pct_text, pp_text
        else:
            digits = _decimals(part["mean_control"].abs().max())
            level_fmt = lambda v, d=digits: number_text(v, d)  # noqa: E731
            lift_fmt = lambda v, d=digits: number_text(v, d, sign=True)  # noqa: E731

        def with_ci(values, lows, highs, fmt):
            return [f"{fmt(v)} [{fmt(lo)}, {fmt(hi)}]" for v, lo, hi in zip(values, lows, highs)]

        cols: dict[str, list] = {}
        if SEGMENT_COLUMN in part:
            cols[t("evaluate.col.segment", lang=lang)] = part[SEGMENT_COLUMN].astype(str).tolist()
        cols[t("evaluate.col.arm", lang=lang)] = part["arm"].astype(str).tolist()
        cols[t("evaluate.col.n_treated", lang=lang)] = [f"{int(v):,}" for v in part["n_treated"]]
        cols[t("evaluate.col.n_control", lang=lang)] = [f"{int(v):,}" for v in part["n_control"]]
        which = "rate" if binary else "mean"
        cols[t(f"evaluate.col.{which}_treated", lang=lang)] = [level_fmt(v) for v in part["mean_treated"]]
        cols[t(f"evaluate.col.{which}_control", lang=lang)] = [level_fmt(v) for v in part["mean_control"]]
        abs_label = t("evaluate.col.abs_lift_pp" if binary else "evaluate.col.abs_lift", lang=lang)
        cols[f"{abs_label} [{ci}]"] = with_ci(part["abs_lift"], part["abs_ci_low"], part["abs_ci_high"], lift_fmt)
        cols[f"{t('evaluate.col.rel_lift', lang=lang)} [{ci}]"] = with_ci(
            part["rel_lift"], part["rel_ci_low"], part["rel_ci_high"], lambda v: pct_text(v, 1, sign=True)
        )
        cols[t("evaluate.col.p_value", lang=lang)] = [p_text(v) for v in part["p_value"]]
        if "srm" in part and part["srm"].any():
            yes, no = t("common.yes", lang=lang), t("common.no", lang=lang)
            cols[t("evaluate.col.srm", lang=lang)] = [yes if v else no for v in part["srm"]]
        if "cuped_lift" in part:
            cols[f"{t('evaluate.col.cuped_lift', lang=lang)} [{ci}]"] = with_ci(
                part["cuped_lift"], part["cuped_ci_low"], part["cuped_ci_high"], lift_fmt
            )
            cols[t("evaluate.col.variance_reduction", lang=lang)] = [
                pct_text(v, 1) for v in part["cuped_variance_reduction"]
            ]
            cols[f"{t('evaluate.col.reg_lift', lang=lang)} [{ci}]"] = with_ci(
                part["reg_lift"], part["reg_ci_low"], part["reg_ci_high"], lift_fmt
            )
        if part["note"].astype(bool).any():
            cols[t("evaluate.col.note", lang=lang)] = [
                "; ".join(t(f"evaluate.note.{c}", lang=lang) for c in str(n).split(";") if c) for n in part["note"]
            ]
        table = _to_text(pd.DataFrame(cols))
        blocks.append(t("evaluate.report.outcome", lang=lang, outcome=outcome, kind=kind) + "\n" + table)
    return "\n\n".join(blocks)


def _format_srm(srm, share: float, threshold: float, lang: str | None) -> str:
    import pandas as pd

    from workbench.i18n import t
    from workbench.tracking.effect import SEGMENT_COLUMN

    cols = {}
    if SEGMENT_COLUMN in srm:
        cols[t("evaluate.col.segment", lang=lang)] = srm[SEGMENT_COLUMN].astype(str).tolist()
    cols[t("evaluate.col.arm", lang=lang)] = srm["arm"].astype(str).tolist()
    cols[t("evaluate.col.n", lang=lang)] = [f"{int(v):,}" for v in srm["n"]]
    cols[t("evaluate.col.planned_share", lang=lang)] = [pct_text(v, 1) for v in srm["planned_share"]]
    cols[t("evaluate.col.expected", lang=lang)] = [f"{v:,.1f}" for v in srm["expected"]]
    cols[t("evaluate.col.chi2", lang=lang)] = [_num(v) for v in srm["chi2"]]
    cols[t("evaluate.col.srm_p_value", lang=lang)] = [p_text(v) for v in srm["p_value"]]
    verdict = t("evaluate.report.srm_bad" if srm["srm"].any() else "evaluate.report.srm_ok", lang=lang)
    head = t("evaluate.report.srm", lang=lang, share=f"{share:g}", threshold=f"{threshold:g}")
    return f"{head}\n{_to_text(pd.DataFrame(cols))}\n{verdict}"


def _records(frame) -> list[dict]:
    import math

    import numpy as np

    out = []
    for rec in frame.to_dict(orient="records"):
        clean = {}
        for k, v in rec.items():
            if isinstance(v, np.generic):
                v = v.item()
            if isinstance(v, float) and not math.isfinite(v):
                v = None  # JSON has no NaN / Infinity
            clean[str(k)] = v
        out.append(clean)
    return out


def effects_json(overall, breakdown=None, srm=None, **meta) -> dict:
    """The JSON document of ``workbench evaluate --json``.

    Parameters
    ----------
    overall : pandas.DataFrame
        :func:`~workbench.tracking.effect_table` without ``by``.
    breakdown : pandas.DataFrame, optional
        The same with ``by``.
    srm : pandas.DataFrame, optional
        :func:`~workbench.tracking.srm_table` result.
    **meta
        Extra top-level keys (arm column, control, ...).

    Returns
    -------
    dict
        ``meta`` keys, ``effects`` (records), and ``breakdown`` / ``srm`` when
        given; NaN becomes None.
    """
    doc = dict(meta)
    doc["effects"] = _records(overall)
    if breakdown is not None:
        doc["breakdown"] = _records(breakdown)
    if srm is not None:
        doc["srm"] = _records(srm)
    return doc


# ------------------------------------------------------------------ the handler
def _evaluate(args: argparse.Namespace) -> int:
    import json

    from workbench.i18n import t
    from workbench.metrics.experiment import SRM_THRESHOLD
    from workbench.tracking.effect import effect_table, resolve_value, srm_table
    from workbench.workspace import path_arg

    args.data = path_arg(args.data)
    available = table_columns(args.data)
    args.outcome = expand_columns(args.outcome, available)
    args.covariate = expand_columns(args.covariate, available)
    columns = [args.arm, *args.outcome, *([args.by] if args.by else []), *args.covariate]
    df = read_table(args.data, columns)
    common = dict(positive=args.positive, covariates=args.covariate or None,
                  planned_control_share=args.planned_control_share, alpha=args.alpha)
    overall = effect_table(df, args.arm, args.control, args.outcome, **common)
    breakdown = effect_table(df, args.arm, args.control, args.outcome, by=args.by, **common) if args.by else None
    srm = None
    if args.planned_control_share is not None:
        srm = srm_table(df, args.arm, args.control, args.planned_control_share)
    control = resolve_value(df[args.arm], args.control)

    if args.json:
        doc = effects_json(
            overall, breakdown, srm, data=str(args.data), rows=len(df), arm_column=args.arm, control=control,
            outcomes=list(args.outcome), by=args.by, covariates=list(args.covariate), alpha=args.alpha,
            planned_control_share=args.planned_control_share,
        )
        print(json.dumps(doc, ensure_ascii=False, indent=2))
        return 0

    lang = args.lang
    print(t("evaluate.report.title", lang=lang, arm_col=args.arm, control=control, rows=f"{len(df):,}"))
    if srm is not None:
        print()
        print(_format_srm(srm, args.planned_control_share, SRM_THRESHOLD, lang))
    if args.covariate:
        print()
        print(t("evaluate.report.adjusted", lang=lang, covariates=", ".join(args.covariate)))
    print()
    print(format_effects(overall, alpha=args.alpha, lang=lang))
    if breakdown is not None:
        print()
        print("== " + t("evaluate.report.by", lang=lang, by=args.by) + " ==")
        print()
        print(format_effects(breakdown, alpha=args.alpha, lang=lang))
    return 0

"""``workbench credit train | score | rules`` - segmented credit models and grades for any table.

::

    workbench credit train --data FILE --target COL --positive VALUE [--id COL] [--segments COL,...]
                           [--grades N] [--oot-column COL --oot-from VALUE] --out DIR
    workbench credit score --model DIR --data FILE --out FILE
    workbench credit rules --model DIR [--lang en]

FILE is CSV or Parquet (by suffix), read like ``workbench model train`` reads it.  ``train`` compares a
shallow tree, a WoE scorecard and monotone LightGBM per segment on held-out rows (the later cohort
with ``--oot-column``/``--oot-from``, else cross-validation or a holdout), keeps the best per segment,
chooses grade cut-offs with strictly increasing bad rate and saves a JSON model folder (see
:mod:`workbench.credit.model`).  Heavy imports happen inside the handlers.
"""
from __future__ import annotations

import json
from pathlib import Path

from workbench.errors import ParameterError, Words, data_file, warning_text
from workbench.i18n import LANGUAGES

__all__ = ["register", "oot_mask"]


def register(subparsers) -> None:
    """Add ``credit`` and its verbs to the ``workbench`` parser."""
    p = subparsers.add_parser("credit", help="train, score and explain segmented credit (bad-payer) models")
    verbs = p.add_subparsers(dest="verb", metavar="VERB")
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])

    tr = verbs.add_parser(
        "train", help="train segmented credit models with grades A..E on a CSV/Parquet table",
        description="Per segment, compare a shallow decision tree, a WoE scorecard and monotone LightGBM on "
                    "held-out rows, keep the best by stability-adjusted AUC, choose grade cut-offs whose bad "
                    "rate increases strictly from A to E, and save the model folder (JSON, no pickle).",
        epilog="example: workbench credit train --data applicants.csv --target risk --positive bad --id app_id "
               "--segments region --oot-column month --oot-from 2026-07 --out models/credit")
    tr.add_argument("--data", required=True, type=Path, metavar="FILE", help="CSV or Parquet file")
    tr.add_argument("--target", required=True, metavar="COL", help="label column")
    tr.add_argument("--positive", required=True, metavar="VALUE",
                    help="value of the label column that means BAD (text, true/false or 0/1)")
    tr.add_argument("--id", dest="id_col", default=None, metavar="COL",
                    help="column identifying a row (never an input); without it, scores name rows by their "
                         "number in the file ('row', 1 = first data row)")
    tr.add_argument("--segments", default=None, metavar="COL,...",
                    help="segment columns, comma-separated: each combination of their values gets its own model "
                         "when large enough (small ones are merged, and the output says so)")
    tr.add_argument("--grades", type=int, default=5, metavar="N", help="number of grades (default 5: A..E)")
    tr.add_argument("--oot-column", default=None, metavar="COL",
                    help="column ordering rows in time (e.g. join month); with --oot-from, the later rows are "
                         "held out of time to choose the methods and the grade cut-offs; never an input")
    tr.add_argument("--oot-from", default=None, metavar="VALUE",
                    help="rows whose --oot-column is at least VALUE are out of time")
    tr.add_argument("--exclude", default=None, metavar="COL,...", help="columns never used as inputs")
    tr.add_argument("--min-segment-rows", type=int, default=500, metavar="N",
                    help="training rows a segment needs for its own model (default 500)")
    tr.add_argument("--min-segment-bads", type=int, default=50, metavar="N",
                    help="bad (and good) training rows a segment needs for its own model (default 50)")
    tr.add_argument("--out", required=True, type=Path, metavar="DIR", help="model folder to write")
    tr.add_argument("--seed", type=int, default=0, help="seed of the splits and the models")
    tr.add_argument("--lang", choices=LANGUAGES, default=None, help="language of the output (default: zh)")
    tr.add_argument("--json", action="store_true", help="print the summary as JSON")
    tr.add_argument("--no-progress", action="store_true", help="no progress bar")
    tr.set_defaults(func=_train)

    sc = verbs.add_parser("score", help="score and grade a table with a saved credit model",
                          description="Write the id (or 'row'), the segment, the score (probability of bad) "
                                      "and the grade of every row.")
    sc.add_argument("--model", required=True, type=Path, metavar="DIR", help="credit model folder")
    sc.add_argument("--data", required=True, type=Path, metavar="FILE", help="CSV or Parquet file")
    sc.add_argument("--out", required=True, type=Path, metavar="FILE", help="output file (.csv or .parquet)")
    sc.add_argument("--lang", choices=LANGUAGES, default=None, help="language of the messages (default: zh)")
    sc.set_defaults(func=_score)

    ru = verbs.add_parser("rules", help="readable rules of a saved credit model, per segment")
    ru.add_argument("--model", required=True, type=Path, metavar="DIR", help="credit model folder")
    ru.add_argument("--lang", choices=LANGUAGES, default=None, help="language of the rules (default: zh)")
    ru.add_argument("--json", action="store_true", help="print JSON instead of text")
    ru.set_defaults(func=_rules)


# ------------------------------------------------------------------ helpers
def _columns(value: str | None) -> list[str]:
    return [c.strip() for c in value.split(",") if c.strip()] if value else []


def oot_mask(df, column: str, start: str):
    """Rows whose ``column`` is at least ``start`` (numbers as numbers, dates as dates, else text order).

    Raises
    ------
    ParameterError
        Unknown column, a value that cannot be compared, or a split leaving one side empty.
    """
    import pandas as pd

    if column not in df.columns:
        raise ParameterError.from_words("errors.cli.oot_column_missing", column=repr(column),
                                        columns=list(map(str, df.columns))[:40])
    s = df[column]
    if s.isna().any():
        raise ParameterError.from_words("errors.cli.oot_column_gaps", column=repr(column), count=int(s.isna().sum()))
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        try:
            mask = s.to_numpy(dtype=float) >= float(start)
        except ValueError:
            raise ParameterError.invalid("--oot-from", Words("errors.allowed.oot_number", column=repr(column)),
                                         start) from None
    elif pd.api.types.is_datetime64_any_dtype(s.dtype):
        try:
            mask = (s >= pd.Timestamp(start)).to_numpy()
        except ValueError:
            raise ParameterError.invalid("--oot-from", Words("errors.allowed.oot_date", column=repr(column)),
                                         start) from None
    else:
        mask = (s.astype(str) >= str(start)).to_numpy()
    if mask.all() or not mask.any():
        raise ParameterError.from_words("errors.cli.oot_split", start=repr(start), late=int(mask.sum()), rows=len(mask),
                                        column=repr(column), low=repr(s.min()), high=repr(s.max()))
    return mask


def _read(path):
    """The ``--data`` table (as ``workbench model`` reads it); an empty file is a clear error."""
    import pandas as pd

    from workbench.commands.model import read_table

    try:
        return read_table(path)
    except pd.errors.EmptyDataError:
        raise ParameterError.from_words("errors.cli.data_empty", path=repr(str(path))) from None


def _print_json(data) -> None:
    from workbench.models.registry import to_jsonable

    print(json.dumps(to_jsonable(data), ensure_ascii=False, indent=2, allow_nan=False))


def _summary_text(summary: dict, lang: str | None) -> str:
    import pandas as pd

    from workbench.credit.segments import WHOLE
    from workbench.i18n import t
    from workbench.report.format import count_text, number_text, pct_text

    def seg(name):
        return t("credit_model.segment.whole", lang) if name == WHOLE else name

    lines = [t("credit_model.cli.validation", lang, how=t(f"credit_model.validation.{summary['validation']}", lang),
               rows=count_text(summary["rows"]), rate=pct_text(summary["bad_rate"], 1)), ""]
    rows = []
    for m in summary["models"]:
        row = {t("credit_model.cli.segment", lang): seg(m["segment"]),
               t("credit_model.cli.rows", lang): count_text(m["rows"]),
               t("credit_model.cli.bad_rate", lang): pct_text(m["bad_rate"], 1)}
        for meth, a in m["auc_oot"].items():
            row[t(f"credit_model.method.{meth}", lang) + " AUC"] = number_text(a, 3)
        row[t("credit_model.cli.chosen", lang)] = t(f"credit_model.method.{m['method']}", lang)
        rows.append(row)
    lines += [t("credit_model.cli.methods", lang), pd.DataFrame(rows).to_string(index=False)]
    for mg in summary["merges"]:
        lines.append(t("credit_model.note.merged", lang, segment=mg["segment"], rows=count_text(mg["rows"]),
                       bads=count_text(mg["bads"]), reason=t(f"credit_model.reason.{mg['reason']}", lang),
                       into=seg(mg["into"])))
    g = summary["grades"]
    cuts = g["cutoffs"]
    ranges = []
    for i in range(len(g["labels"])):
        lo = number_text(cuts[i - 1], 4) if i > 0 else "0"
        hi = number_text(cuts[i], 4) if i < len(cuts) else "1"
        ranges.append(f"({lo}, {hi}]" if i > 0 else f"[{lo}, {hi}]")
    table = pd.DataFrame({t("credit_model.cli.grade", lang): g["labels"],
                          t("credit_model.cli.score_range", lang): ranges,
                          t("credit_model.cli.share", lang): [pct_text(v, 1) for v in g["share"]],
                          t("credit_model.cli.bad_rate", lang): [pct_text(v, 1) for v in g["bad_rate"]]})
    lines += ["", t("credit_model.cli.grades", lang, how=t(f"credit_model.validation.{g['basis']}", lang)),
              table.to_string(index=False)]
    if len(summary["models"]) > 1:  # the same grade's bad rate in every segment
        per = pd.DataFrame([{t("credit_model.cli.segment", lang): seg(m["segment"]),
                             **{lab: pct_text(r, 1) for lab, r in zip(g["labels"], m["grade_bad_rates"])}}
                            for m in summary["models"]])
        lines += ["", t("credit_model.cli.grades_by_segment", lang), per.to_string(index=False)]
    if summary.get("dropped"):
        from workbench.i18n import t as tt

        reasons = ", ".join(f"{c} ({tt(f'model.report.reason.{r}', lang)})" for c, r in summary["dropped"].items())
        lines.append("\n" + t("model.report.dropped", lang) + ": " + reasons)
    for note in summary.get("notes", []):
        lines.append(t(note["key"], lang, **{k: v for k, v in note.items() if k != "key"}))
    return "\n".join(lines)


# ----------------------------------------------------------------- handlers
def _train(args) -> int:
    import sys

    from workbench.credit.model import train_credit
    from workbench.i18n import t
    from workbench.workspace import path_arg

    if (args.oot_column is None) != (args.oot_from is None):
        raise ParameterError.from_words("errors.cli.oot_pair")
    args.data = path_arg(args.data)
    args.out = path_arg(args.out)
    df = _read(args.data)
    oot = oot_mask(df, args.oot_column, args.oot_from) if args.oot_column is not None else None
    exclude = _columns(args.exclude) + ([args.oot_column] if args.oot_column else [])
    model = train_credit(df, target=args.target, positive=args.positive, id_col=args.id_col,
                         segments=_columns(args.segments), grades=args.grades, oot=oot, exclude=exclude,
                         min_segment_rows=args.min_segment_rows, min_segment_bads=args.min_segment_bads,
                         seed=args.seed, progress=not args.no_progress, table=data_file(args.data.name))
    model.spec["label"]["source"] = str(args.data)
    model.save(args.out)
    if args.json:
        _print_json({"summary": model.summary, "out": str(args.out)})
        return 0

    for column, auc in model.summary.get("leakage", {}).items():
        print(warning_text(t("model.report.warning.leakage", args.lang, column=column, auc=auc), args.lang),
              file=sys.stderr)
    print(_summary_text(model.summary, args.lang))
    print("\n" + t("model.report.saved", args.lang, path=args.out))
    return 0


def _score(args) -> int:
    from workbench.commands.model import write_table
    from workbench.credit.model import load_credit_model
    from workbench.i18n import t
    from workbench.workspace import path_arg

    args.model = path_arg(args.model)
    args.data = path_arg(args.data)
    args.out = path_arg(args.out)
    model = load_credit_model(args.model)
    df = _read(args.data)
    if len(df) == 0:
        raise ParameterError.from_words("errors.cli.data_no_rows", path=repr(str(args.data)))
    scored = model.score(df, table=data_file(args.data.name))
    write_table(scored, args.out)
    counts = scored["grade"].value_counts()
    mix = ", ".join(f"{g} {int(counts.get(g, 0))}" for g in model.grade_labels)
    print(t("credit_model.cli.scored", args.lang, n=len(scored), path=args.out, mix=mix))
    return 0


def _rules(args) -> int:
    from workbench.credit.model import load_credit_model
    from workbench.credit.segments import WHOLE
    from workbench.i18n import t
    from workbench.workspace import path_arg

    args.model = path_arg(args.model)
    model = load_credit_model(args.model)
    rules = model.rules(args.lang)
    if args.json:
        _print_json([{k: r[k] for k in ("segment", "method", "rules")} for r in rules])
        return 0
    for r in rules:
        seg = t("credit_model.segment.whole", args.lang) if r["segment"] == WHOLE else r["segment"]
        print(t("credit_model.cli.rules_title", args.lang, segment=seg,
                method=t(f"credit_model.method.{r['method']}", args.lang)))
        for i, line in enumerate(r["rules"], 1):
            print(f"  {i}. {line}")
        print()
    return 0

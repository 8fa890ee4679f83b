"""``workbench model monitor`` - drift and decay of a saved model (registered by :mod:`workbench.commands.model`).

A model folder of the generic path takes a CSV/Parquet table (``--target``/``--positive`` add AUC,
lift and calibration against training; a reference with grades adds the grade mix and bad rate per
grade); a province model folder (or a run folder holding one) takes the province folder and a month
(``--snapshot``).  Compute in :mod:`workbench.monitoring`; words from the catalogue.  See docs/monitoring.md.
"""
from __future__ import annotations

from workbench.commands.model import _print_json, read_table
from workbench.errors import ParameterError, Words

__all__ = ["monitor"]


def _read_monitored(path):
    import pandas as pd

    try:
        return read_table(path)
    except pd.errors.EmptyDataError:
        raise ParameterError.from_words("errors.cli.data_empty", path=repr(str(path))) from None


def _labels(args, card: dict, df):
    """The 0/1 labels of the labelled rows of ``df`` (``--target``/``--positive``) and their mask."""
    from workbench.models.generic import encode_target

    target = args.target
    positive = args.positive if args.positive is not None else card["label"].get("positive")
    if positive is None:
        raise ParameterError.from_words("errors.cli.need_positive")
    if target not in df.columns:
        raise ParameterError.from_words("errors.cli.label_missing", column=repr(target), path=repr(str(args.data)),
                                        columns=list(map(str, df.columns)))
    keep = df[target].notna().to_numpy()
    y, _ = encode_target(df.loc[keep, target], positive, column=target)
    return y, keep


def _grades(args, reference: dict, df, s, watch: float, alert: float, y=None, keep=None) -> dict | None:
    """The grade mix (and bad rate per grade with labels) against training, when the reference has grades."""
    from workbench.monitoring import compare_grades, grades_from_score

    if not reference.get("grades"):
        if args.grade_col is not None:
            raise ParameterError.from_words("errors.cli.no_grade_mix", column=repr(args.grade_col))
        return None
    if args.grade_col is not None:
        if args.grade_col not in df.columns:
            raise ParameterError.from_words("errors.cli.grade_missing", column=repr(args.grade_col),
                                            path=repr(str(args.data)), columns=list(map(str, df.columns)))
        grades = df[args.grade_col].to_numpy(dtype=object)
    else:
        grades = grades_from_score(reference, s)
    if y is not None:
        return compare_grades(reference, grades[keep], y, watch=watch, alert=alert)
    return compare_grades(reference, grades, watch=watch, alert=alert)


def monitor(args) -> int:
    """Run ``workbench model monitor``; returns the exit code."""
    from workbench.models.registry import load_card, load_reference
    from workbench.monitoring import check_thresholds, compare_performance, is_province_model
    from workbench.workspace import path_arg

    from workbench.runs import MODEL_DIR

    args.model = path_arg(args.model)
    args.data = path_arg(args.data)
    if not (args.model / "model.json").is_file() and is_province_model(args.model / MODEL_DIR):
        args.model = args.model / MODEL_DIR          # a run folder: its province model
    watch, alert = check_thresholds(args.watch, args.alert)
    if args.positive is not None and args.target is None:
        raise ParameterError.from_words("errors.cli.positive_needs_target")
    card = load_card(args.model)
    reference = load_reference(args.model)
    if is_province_model(args.model):
        result, out = _monitor_province(args, reference, watch, alert)
    else:
        if args.snapshot is not None:
            raise ParameterError.from_words("errors.cli.snapshot_table_model", path=repr(str(args.model)))
        result, out, df, s = _monitor_table(args, reference, watch, alert)
        y = keep = None
        if args.target is not None:
            y, keep = _labels(args, card, df)
            out["performance"] = compare_performance(reference, y, s[keep])
        grades = _grades(args, reference, df, s, watch, alert, y, keep)
        if grades is not None:
            out["grades"] = grades
    if args.json:
        _print_json(out)
        return 0
    print(_monitor_text(result, out, args.lang))
    return 0


def _monitor_table(args, reference, watch, alert):
    from workbench.models.registry import load_model
    from workbench.monitoring import check_table, compare

    df = _read_monitored(args.data)
    from workbench.errors import data_file

    table = data_file(args.data)
    check_table(reference, df, table)
    from workbench.commands import model as verbs

    # a credit model folder is scored by its own loader when the 'model' noun has one (``_load_scorer``)
    loader = getattr(verbs, "_load_scorer", None) or load_model
    model = loader(args.model)
    s = model.predict_proba(df)[:, 1]
    result = compare(reference, df, s, watch=watch, alert=alert, table=table)
    out = {"rows": result["rows"], "thresholds": result["thresholds"],
           "features": result["features"][["feature", "psi", "status"]], "score": result["score"]}
    return result, out, df, s


def _monitor_province(args, reference, watch, alert):
    from workbench.monitoring import province_decay, province_drift

    if args.target is not None or args.grade_col is not None:
        raise ParameterError.from_words("errors.cli.province_model_options")
    if not args.data.is_dir():
        raise ParameterError.invalid("--data", Words("errors.allowed.province_folder"), str(args.data))
    result = province_drift(args.data, args.model, args.snapshot, watch=watch, alert=alert, reference=reference)
    out = {"snapshot": result["snapshot"], "rows": result["rows"], "thresholds": result["thresholds"],
           "features": result["features"][["feature", "psi", "status"]], "score": result["score"]}
    if "parts" in result:
        out["parts"] = {k: {"features": v["features"][["feature", "psi", "status"]]}
                        for k, v in result["parts"].items()}
    decay = province_decay(args.data, args.model, result["snapshot"], reference=reference)
    if decay is not None:
        out["performance"] = decay
    return result, out


def _monitor_text(result: dict, out: dict, lang: str | None) -> str:
    import pandas as pd

    from workbench.i18n import t
    from workbench.report.format import count_text, number_text, pct_text

    th = result["thresholds"]
    f = result["features"]
    lines = [t("model.monitor.title", lang, rows=count_text(result["rows"])),
             t("model.monitor.thresholds", lang, watch=number_text(th["watch"]), alert=number_text(th["alert"])), ""]
    if out.get("snapshot"):
        lines.insert(1, t("model.monitor.snapshot", lang, month=out["snapshot"]))
    table = pd.DataFrame({
        t("model.monitor.feature", lang): f["feature"],
        t("model.monitor.kind", lang): [t(f"model.monitor.kind.{k}", lang) for k in f["kind"]],
        t("model.monitor.psi", lang): [number_text(v, 3) for v in f["psi"]],
        t("model.monitor.status", lang): [t(f"model.monitor.status.{k}", lang) for k in f["status"]],
    })
    if result["score"] is not None:
        table.loc[len(table)] = [t("model.monitor.score", lang), "", number_text(result["score"]["psi"], 3),
                                 t(f"model.monitor.status.{result['score']['status']}", lang)]
    lines.append(table.to_string(index=False))
    counts = f["status"].value_counts()
    lines += ["", t("model.monitor.summary", lang, alert=int(counts.get("alert", 0)),
                    watch=int(counts.get("watch", 0)))]
    for name, part in (out.get("parts") or {}).items():
        pf = pd.DataFrame(part["features"])
        lines += ["", t(f"model.monitor.part.{name}", lang), pd.DataFrame({
            t("model.monitor.feature", lang): pf["feature"],
            t("model.monitor.psi", lang): [number_text(v, 3) for v in pf["psi"]],
            t("model.monitor.status", lang): [t(f"model.monitor.status.{k}", lang) for k in pf["status"]],
        }).to_string(index=False)]
    performance = out.get("performance")
    if performance is not None:
        tr, now = performance["training"], performance["now"]
        rows = []
        for key, label in (("auc", t("model.metric.auc", lang)),
                           ("top_decile_lift", t("model.monitor.top_decile_lift", lang))):
            a, b = tr.get(key), now.get(key)
            rows.append({t("model.monitor.metric", lang): label,
                         t("model.monitor.training", lang): number_text(a, 3),
                         t("model.monitor.now", lang): number_text(b, 3),
                         t("model.monitor.change", lang): number_text(None if a is None or b is None else b - a, 3,
                                                                      sign=True)})
        lines += ["", t("model.monitor.performance", lang), pd.DataFrame(rows).to_string(index=False)]
        cal = performance["calibration"]
        if len(cal):
            def pct(v):
                return "" if v is None or pd.isna(v) else pct_text(v, 1)

            lines += ["", t("model.monitor.calibration", lang), pd.DataFrame({
                t("model.monitor.bin", lang): cal["bin"],
                t("model.monitor.training_observed", lang): [pct(v) for v in cal["training_observed"]],
                t("model.monitor.rows", lang): [count_text(v) for v in cal["rows"]],
                t("model.monitor.predicted", lang): [pct(v) for v in cal["predicted"]],
                t("model.monitor.observed", lang): [pct(v) for v in cal["observed"]],
            }).to_string(index=False)]
    grades = out.get("grades")
    if grades is not None:
        g = grades["table"]
        lines += ["", t("model.monitor.grades", lang, psi=number_text(grades["psi"], 3),
                        status=t(f"model.monitor.status.{grades['status']}", lang)), pd.DataFrame({
            t("model.monitor.grade", lang): g["grade"],
            t("model.monitor.training", lang): [pct_text(v, 1) for v in g["expected"]],
            t("model.monitor.now", lang): [pct_text(v, 1) for v in g["actual"]],
            t("model.monitor.training_bad_rate", lang): ["" if v is None or pd.isna(v) else pct_text(v, 1)
                                                         for v in g["training_bad_rate"]],
            t("model.monitor.bad_rate", lang): ["" if v is None or pd.isna(v) else pct_text(v, 1)
                                                for v in g["bad_rate"]],
        }).to_string(index=False)]
    return "\n".join(lines)

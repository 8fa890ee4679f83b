"""Scan an executed report for what a person must never read: identifiers of the data model, ``nan`` /
``None``, and raw English error text in a Chinese report.  Used by the chain tests (test_demo_rerun) and
proven able to fail by test_report_scan."""
from __future__ import annotations

import html
import re
from pathlib import Path

import nbformat

from workbench.data.tables import CONTENT_CATEGORIES, TABLES
from workbench.features import FEATURE_INDEX

#: Column names of the data model and the features (and preference inputs) built from it.  Snake-case names
#: are never prose, so they are looked for in every report; one-word names ("brand", "channel") only in the
#: output of a Chinese report, where an English word is untranslated (titles are bilingual on purpose).
COLUMNS: frozenset[str] = frozenset(
    [c.name for t in TABLES.values() for c in t.columns] + list(FEATURE_INDEX)
    + [f"content_pref_{c}" for c in CONTENT_CATEGORIES] + ["content_pref_edition_top"])
#: Words a missing value leaks as.
MISSING_WORDS: tuple[str, ...] = ("nan", "NaN", "None", "NaT", "<NA>")
#: English error text that must not reach a Chinese report.
ENGLISH_ERRORS: tuple[str, ...] = ("Traceback", "Error:", "Exception", "Warning:", " must be ", "Got ", "instead.")
#: Figure keys whose text a person reads.
_FIGURE_TEXT = ("text", "title", "name", "ticktext", "hovertemplate", "texttemplate")
_PLACEHOLDER = re.compile(r"%\{[^}]*\}|<extra>.*?</extra>")
_TAG = re.compile(r"<style.*?</style>|<script.*?</script>|<[^>]+>", re.S)


def _figure_texts(node, key: str = "") -> list[str]:
    out: list[str] = []
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ("customdata", "x", "y", "z", "values", "ids", "meta", "uid", "template"):
                continue
            out.extend(_figure_texts(v, k))
    elif isinstance(node, list):
        for v in node:
            out.extend(_figure_texts(v, key))
    elif isinstance(node, str) and key in _FIGURE_TEXT:
        out.append(_PLACEHOLDER.sub(" ", node))
    return out


def report_texts(path: str | Path) -> list[tuple[int, str, str]]:
    """``(cell index, kind, text)`` of everything an executed notebook shows a reader (code is not shown)."""
    nb = nbformat.read(str(path), as_version=4)
    found = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            found.append((i, "markdown-cell", cell.source))
        if cell.cell_type != "code":
            continue
        for o in cell.get("outputs", []):
            data = o.get("data", {})
            if o.get("output_type") == "stream":
                found.append((i, "stream", o.get("text", "")))
            elif o.get("output_type") == "error":
                found.append((i, "error", f"{o.get('ename')}: {o.get('evalue')}"))
            if "application/vnd.plotly.v1+json" in data:
                found.append((i, "figure", " | ".join(_figure_texts(data["application/vnd.plotly.v1+json"]))))
            elif "text/markdown" in data:
                found.append((i, "markdown", data["text/markdown"]))
            elif "text/html" in data:
                if "plotly" in data["text/html"][:5000].lower():
                    continue      # plotly.js and a figure's HTML twin: the figure's JSON is scanned instead
                found.append((i, "html", html.unescape(_TAG.sub(" ", data["text/html"]))))
            elif "text/plain" in data:
                found.append((i, "plain", data["text/plain"]))
    return found


def _words(text: str, words, *, prose_after: bool = False) -> list[str]:
    """The ``words`` found in ``text`` as whole tokens; with ``prose_after``, not where an English word follows
    (``None of their contacts`` is prose, ``Control: None`` a leaked value)."""
    tail = r"(?![A-Za-z0-9_]| [a-z])" if prose_after else r"(?![A-Za-z0-9_])"
    return sorted({w for w in words if re.search(rf"(?<![A-Za-z0-9_]){re.escape(w)}{tail}", text)})


def untranslated(path: str | Path, lang: str) -> list[str]:
    """Every problem of one executed report: ``"<cell> <kind>: <what> in '<excerpt>'"`` (empty: clean)."""
    problems = []
    snake = [c for c in COLUMNS if "_" in c]
    single = [c for c in COLUMNS if "_" not in c]
    for i, kind, text in report_texts(path):
        hits = _words(text, snake) + (_words(text, single) if lang == "zh" and kind != "markdown-cell" else [])
        hits += _words(text, MISSING_WORDS, prose_after=True)
        if kind in ("stream", "error"):
            hits.append(kind)
        if lang == "zh":
            hits += [w for w in ENGLISH_ERRORS if w in text]
        for hit in hits:
            at = text.find(hit)
            problems.append(f"cell {i} {kind}: {hit!r} in {text[max(0, at - 60):at + 60]!r}")
    return problems

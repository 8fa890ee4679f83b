"""Template 08 (handset-change triggers) runs in a real kernel on the sample province."""
from __future__ import annotations

from pathlib import Path

import nbformat
import pandas as pd
import pytest

import workbench.i18n as i18n
from workbench import templates as wt
from workbench.commands import demo
from workbench.i18n import catalogue
from workbench.notebook import narrative
from workbench.report.t08 import presence_story
from workbench.store import SYSTEM_USER, Store
from workbench.templates import run_template
from workbench.triggers import detect_changers, presence_days, wave_members

T08 = "08_handset_triggers"
SAMPLE = Path(__file__).resolve().parent.parent / "sample_data" / "province"


@pytest.fixture(autouse=True)
def _clean_language(monkeypatch):
    monkeypatch.delenv("WORKBENCH_LANG", raising=False)
    monkeypatch.delenv(wt.TEMPLATES_ENV, raising=False)
    monkeypatch.setattr(i18n, "_current", None)


def _texts(path) -> str:
    nb = nbformat.read(path, as_version=4)
    out = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            if o.get("output_type") == "error":
                raise AssertionError(f"{o['ename']}: {o['evalue']}")
            data = o.get("data", {})
            out.append(data.get("text/markdown") or data.get("text/plain") or o.get("text", ""))
    return "\n".join(out)


@pytest.mark.kernel
def test_template_08_runs_waves_and_evaluates_on_the_sample(tmp_path):
    run = tmp_path / "run"
    store_url = f"sqlite:///{run / 'store.sqlite'}"
    result = run_template(T08, {"data": str(SAMPLE), "run_dir": str(run), "store": store_url, "days": 5,
                                "language": "en"},
                          out_dir=run, progress=False)
    text = _texts(result.notebook)
    from report_scan import untranslated

    assert untranslated(result.notebook, "en") == []          # no identifiers, nan/None or tracebacks
    lo, hi = presence_days(SAMPLE)
    n = len(detect_changers(SAMPLE, hi))
    key, values = presence_story(lo, hi, hi, n)
    assert narrative(key, "en", **values) in text
    assert "already released" in text and "no contact added" in text      # the same-day re-run
    assert "Extra uplift of changers" in text and "95% CI" in text
    assert "precision" in text and "recall" in text                       # checked against the sample's truth
    days = sorted(p.name for p in (run / "triggers").iterdir())
    assert days == [d.date().isoformat() for d in pd.date_range(hi - pd.Timedelta(days=4), hi)]
    sms = pd.read_csv(run / "triggers" / days[-1] / "sms.csv", dtype=str)
    assert list(sms.columns) == ["subscriber_id", "msisdn_masked", "product_id", "branch_id"]
    assert sms["msisdn_masked"].str.fullmatch(r"\d{3}\*{4}\d{4}").all()
    with Store(store_url, progress=False) as store:
        members = wave_members(store, SYSTEM_USER)
    assert members["wave_day"].nunique() == 5 and not members["subscriber_id"].duplicated().any()
    html = Path(result.html).read_text(encoding="utf-8")
    assert "run_waves(" not in html and "from workbench" not in html


def test_template_08_is_a_demo_step_with_both_languages():
    assert T08 in demo.DEMO_STEPS
    keys = [k for k in catalogue() if k.startswith(("t08.", "triggers."))]
    assert keys and all(set(catalogue()[k]) >= {"zh", "en"} for k in keys)

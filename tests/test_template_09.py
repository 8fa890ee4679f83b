"""Template 09 (model monitoring) executed in a real kernel: a province without drift shows nothing in alert,
a province whose data traffic drifts shows a real alert and the advice to retrain."""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from workbench import templates as wt
from workbench.data.synth import generate_province
from workbench.runs import MONITORING_DIR, RunFolder

NAME = "09_model_monitoring"


def _outputs(path: Path) -> list[dict]:
    nb = nbformat.read(str(path), as_version=4)
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]


def _text(outputs: list[dict]) -> str:
    parts = []
    for o in outputs:
        data = o.get("data", {})
        parts.append(data.get("text/markdown", "") + data.get("text/plain", "") + o.get("text", ""))
    return "\n".join(parts)


def test_template_declares_its_parameters():
    params = wt.template_parameters(NAME)
    assert list(params) == ["data", "run_dir", "model_dir", "product", "train_month", "window", "watch", "alert",
                            "language"]
    assert params["watch"].default == 0.1 and params["alert"].default == 0.25 and params["window"].default == 3
    assert all(p.help for p in params.values())


def test_template_markdown_cells_are_titles_only():
    nb = nbformat.read(str(wt.find_template(NAME)), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            assert all(line.startswith("#") for line in cell.source.splitlines() if line.strip()), cell.source
    assert nb.metadata["workbench"] == {"description": "t09.description", "title": "t09.title"}


@pytest.fixture(scope="module")
def provinces(tmp_path_factory):
    root = tmp_path_factory.mktemp("t09")
    out = {}
    for name, drift in (("plain", None), ("usage", "usage")):
        generate_province(5000, 6, seed=3, out=root / name, progress=False, drift=drift,
                          drift_from="2026-08" if drift else None)
        out[name] = root / name
    return root, out


def _run(root, data, name, language="en"):
    run_dir = root / f"run_{name}"
    result = wt.run_template(NAME, {"data": str(data), "run_dir": str(run_dir)}, run_dir, language=language,
                             progress=False)
    from report_scan import untranslated

    assert untranslated(result.notebook, language) == []      # no identifiers, nan/None, progress bars or errors
    return result, run_dir


@pytest.mark.kernel
def test_no_drift_no_alert(provinces):
    root, prov = provinces
    result, run_dir = _run(root, prov["plain"], "plain")
    outputs = _outputs(result.notebook)
    assert not [o for o in outputs if o.output_type == "error"]
    text = _text(outputs)
    assert "Monitoring **2026-08** to **2026-10** (3 months)" in text
    assert "Inputs in alert (latest): 0" in text
    assert "Retrain" not in text and ("Keep the model" in text or "Keep watching" in text)
    # the monitored model is template 09's own, beside (not over) template 03's model folder
    assert (run_dir / MONITORING_DIR / "model" / "reference.json").is_file() and not (run_dir / "model").exists()
    assert "09_model_monitoring" in RunFolder(run_dir).steps()
    assert any("plotly" in k for o in outputs for k in o.get("data", {}))


@pytest.mark.kernel
def test_drifted_province_shows_a_real_alert_and_the_advice_to_retrain(provinces):
    root, prov = provinces
    result, _ = _run(root, prov["usage"], "usage", language="zh")
    outputs = _outputs(result.notebook)
    assert not [o for o in outputs if o.output_type == "error"]
    text = _text(outputs)
    assert "告警特征（最近月）: 0" not in text
    assert "**重训模型**" in text                   # the advice driven by the alert
    assert "GPRS" in text or "WAP" in text          # the data-traffic inputs are named

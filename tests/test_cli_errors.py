"""Bad input at the command line: one clear message each, in the CLI's language (zh by default)."""
from __future__ import annotations

import pytest

from workbench.cli import main
from workbench.errors import ParameterError, error_text


@pytest.fixture(autouse=True)
def _default_language(monkeypatch):
    monkeypatch.delenv("WORKBENCH_LANG", raising=False)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """A small model trained by the CLI, for `workbench model score`."""
    import numpy as np
    import pandas as pd

    root = tmp_path_factory.mktemp("model")
    rng = np.random.default_rng(0)
    x = rng.normal(size=300)
    pd.DataFrame({"id": range(300), "x": x, "y": (x + rng.normal(size=300) > 0).astype(int)}).to_csv(
        root / "train.csv", index=False)
    assert main(["model", "train", "--data", str(root / "train.csv"), "--target", "y", "--positive", "1", "--id",
                 "id", "--out", str(root / "m"), "--no-progress"]) == 0
    return root / "m"


def _run(capsys, *argv) -> tuple[int, str]:
    rc = main(list(argv))
    return rc, capsys.readouterr().err


@pytest.mark.parametrize("verb", ["train", "score"])
def test_an_empty_file_is_one_clear_localized_message(tmp_path, capsys, verb, model_dir):
    capsys.readouterr()
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    args = (["--target", "y", "--positive", "1"] if verb == "train" else ["--model", str(model_dir)])
    rc, err = _run(capsys, "model", verb, "--data", str(empty), *args, "--out", str(tmp_path / "o.csv"))
    assert rc == 1 and err.startswith("错误：") and "是空的" in err and str(empty) in err
    assert "Traceback" not in err and "EmptyDataError" not in err and len(err.strip().splitlines()) == 1
    rc, err = _run(capsys, "model", verb, "--data", str(empty), *args, "--out", str(tmp_path / "o.csv"),
                   "--lang", "en")
    assert rc == 1 and err.startswith("error: ") and "is empty (no header, no rows)" in err


@pytest.mark.parametrize("verb", ["train", "score"])
def test_a_header_only_file_says_it_has_no_rows(tmp_path, capsys, verb, model_dir):
    capsys.readouterr()
    header = tmp_path / "header.csv"
    header.write_text("id,x,y\n", encoding="utf-8")
    args = (["--target", "y", "--positive", "1"] if verb == "train" else ["--model", str(model_dir)])
    rc, err = _run(capsys, "model", verb, "--data", str(header), *args, "--out", str(tmp_path / "o.csv"))
    assert rc == 1 and "只有表头（id, x, y），没有数据行" in err and "Traceback" not in err


def test_a_header_only_parquet_file_is_refused_too(tmp_path):
    import pandas as pd

    from workbench.data.files import read_table

    path = tmp_path / "t.parquet"
    pd.DataFrame({"a": pd.Series(dtype="int64")}).to_parquet(path)
    with pytest.raises(ParameterError, match="只有表头"):
        read_table(path)
    assert read_table(path, allow_empty=True).columns.tolist() == ["a"]


def test_the_cli_words_a_parameter_error_in_its_language():
    exc = ParameterError.invalid("list_size", "an integer >= 1", 0)
    assert str(exc) == "The 'list_size' parameter must be an integer >= 1. Got 0 instead."   # as raised
    assert error_text(exc, "zh") == "错误：参数 'list_size' 的取值不符合要求：应为an integer >= 1，实际为 0。"
    assert error_text(exc, "en") == "error: The 'list_size' parameter must be an integer >= 1. Got 0 instead."
    assert error_text(FileNotFoundError(2, "No such file", "/x/y.csv"), "zh") == "错误：找不到文件：/x/y.csv"


def test_a_snapshot_outside_the_data_stops_the_scope_check_with_the_valid_range():
    from pathlib import Path

    import workbench.i18n as i18n
    from workbench.status import check_scope

    from workbench.status.scope import data_scope

    sample = Path(__file__).resolve().parent.parent / "sample_data" / "province"
    scope = data_scope(sample)
    first, last = scope.first_month, scope.last_month
    assert first < "2026-10" <= last
    with pytest.raises(ParameterError) as caught:
        check_scope("mobile_newspaper", "2030-01", [], data=sample)
    assert "快照月 2030-01 不在数据范围内" in str(caught.value) and f"{first} 到 {last}" in str(caught.value)
    i18n.set_language("en")
    with pytest.raises(ParameterError, match=f"The snapshot month 2030-01 is outside the data.*{first} to {last}"):
        check_scope("mobile_newspaper", "2030-01", [], data=sample)
    with pytest.raises(ParameterError, match="The data hold no branch atlantis"):
        check_scope("mobile_newspaper", "2026-10", ["atlantis"], data=sample)
    with pytest.raises(ParameterError, match="no order of ringtone"):
        check_scope("ringtone", "2026-10", [], data=sample)
    assert check_scope("mobile_newspaper", "2026-10", ["hami"], data=sample) == ("mobile_newspaper", "2026-10",
                                                                                ["hami"])


@pytest.mark.kernel
@pytest.mark.parametrize("template", ["01_status_analysis", "03_target_model"])
def test_a_snapshot_outside_the_data_stops_the_template_in_its_parameter_check(tmp_path, monkeypatch, template):
    from pathlib import Path

    import nbformat

    from workbench import templates as wt
    from workbench.errors import TemplateError
    from workbench.templates import run_template

    monkeypatch.delenv(wt.TEMPLATES_ENV, raising=False)
    sample = Path(__file__).resolve().parent.parent / "sample_data" / "province"
    with pytest.raises(TemplateError) as caught:
        run_template(template, {"data": str(sample), "run_dir": str(tmp_path), "snapshot": "2030-01"},
                     tmp_path, progress=False)
    err = caught.value
    nb = nbformat.read(str(err.notebook), as_version=4)
    failed = [c for c in nb.cells if c.cell_type == "code" and any(o.get("output_type") == "error" for o in c.outputs)]
    assert len(failed) == 1 and "check_scope(" in failed[0].source     # the parameter check, before any computation
    later = nb.cells[nb.cells.index(failed[0]) + 1:]
    assert not any(c.get("outputs") for c in later if c.cell_type == "code")
    assert err.ename == "ParameterError"
    from workbench.status.scope import data_scope

    scope = data_scope(sample)
    assert err.evalue == f"快照月 2030-01 不在数据范围内：数据 {sample} 的月份从 {scope.first_month} 到 " \
                         f"{scope.last_month}，请在这个范围内选择 snapshot 参数。"
    assert not (tmp_path / "status_findings.json").exists() and not (tmp_path / "model").exists()

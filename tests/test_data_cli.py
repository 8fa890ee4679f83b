"""Tests of `workbench data validate / describe` and of the generated docs/data-model.md."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from test_io import AS_OF, province_frames, write_province  # the hand-built 3-subscriber province
from workbench.cli import main
from workbench.data.docs import DEFAULT_PATH, main as docs_main, render_data_model, write_data_model
from workbench.data.tables import TABLE_ORDER, TABLES
from workbench.errors import ParameterError

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_data" / "province"


@pytest.fixture
def province_dir(tmp_path):
    return write_province(tmp_path / "province")


@pytest.fixture
def broken_dir(tmp_path):
    frames = province_frames()
    frames["monthly_usage"].loc[0, "voice_minutes"] = -1.0
    frames["vas_orders"].loc[1, "product_id"] = "ZZ"
    del frames["handset_events"]
    return write_province(tmp_path / "broken", frames)


def run(capsys, *argv) -> tuple[int, str, str]:
    rc = main(["data", *argv])
    out, err = capsys.readouterr()
    return rc, out, err


# ---------------------------------------------------------------- validate
def test_valid_extract_exits_zero_with_row_counts(capsys, province_dir):
    rc, out, _ = run(capsys, "validate", str(province_dir), "--as-of", AS_OF, "--lang", "en")
    assert rc == 0
    assert f"Validation of {province_dir} (as of {AS_OF})" in out
    assert "OK: 7 tables valid. Rows: branches 2, handset_models 2, vas_products 2, subscribers 3, " \
           "monthly_usage 6, vas_orders 3, handset_events 4" in out


def test_broken_extract_exits_one_and_lists_every_problem(capsys, broken_dir):
    rc, out, _ = run(capsys, "validate", str(broken_dir), "--as-of", AS_OF, "--lang", "en")
    assert rc == 1
    lines = out.splitlines()
    assert lines[1].split() == ["Table", "Column", "Check", "Rows", "Examples", "or", "details"]
    body = [line.split() for line in lines[3:6]]
    assert body[0][:5] == ["monthly_usage", "voice_minutes", "below", "minimum", "1"] and body[0][-1] == "-1.0"
    assert body[1][:6] == ["vas_orders", "product_id", "unknown", "reference", "1", "ZZ"]
    assert body[2][:4] == ["handset_events", "-", "missing", "table"]
    assert lines[-1] == "FAILED: 3 problems"


def test_report_in_chinese_by_default(capsys, broken_dir, monkeypatch):
    monkeypatch.delenv("WORKBENCH_LANG", raising=False)
    from workbench import i18n

    monkeypatch.setattr(i18n, "_current", None)
    rc, out, _ = run(capsys, "validate", str(broken_dir), "--as-of", AS_OF)
    assert rc == 1
    assert "低于下限" in out and "缺少表" in out and "校验失败：共 3 个问题" in out


def test_json_report(capsys, broken_dir):
    rc, out, _ = run(capsys, "validate", str(broken_dir), "--as-of", AS_OF, "--json")
    assert rc == 1
    report = json.loads(out)
    assert report["ok"] is False and report["as_of"] == AS_OF
    assert [(p["table"], p["column"], p["check"], p["count"]) for p in report["problems"]] == [
        ("monthly_usage", "voice_minutes", "below_min", 1),
        ("vas_orders", "product_id", "orphan_key", 1),
        ("handset_events", None, "missing_table", None),
    ]


@pytest.mark.parametrize("selection", [["subscribers,monthly_usage"], ["subscribers", "monthly_usage"]])
def test_table_selection(capsys, broken_dir, selection):
    rc, out, _ = run(capsys, "validate", str(broken_dir), "--as-of", AS_OF, "--json", "--tables", *selection)
    report = json.loads(out)
    assert report["tables"] == ["subscribers", "monthly_usage"]
    assert rc == 1 and [p["check"] for p in report["problems"]] == ["below_min"]


def test_date_after_default_snapshot(capsys, tmp_path):
    frames = province_frames()
    frames["vas_orders"].loc[0, "event_date"] = "2999-01-01"
    folder = write_province(tmp_path / "future", frames)
    rc, out, _ = run(capsys, "validate", str(folder), "--json")
    assert rc == 1 and [p["check"] for p in json.loads(out)["problems"]] == ["after_snapshot"]


@pytest.mark.parametrize(("argv", "message", "zh"), [
    (["--as-of", "June"], "'as_of' parameter must be a date", "参数 'as_of' 的取值不符合要求：应为日期"),
    (["--tables", "subscriber"], "'tables' parameter must be a non-empty selection of", "中选出的至少一项"),
])
def test_bad_arguments_exit_two(capsys, province_dir, argv, message, zh):
    rc, out, err = run(capsys, "validate", str(province_dir), *argv, "--lang", "en")
    assert rc == 2 and out == "" and message in err
    rc, out, err = run(capsys, "validate", str(province_dir), *argv)      # the command line's default: zh
    assert rc == 2 and out == "" and err.startswith("错误：") and zh in err


def test_missing_source_exits_two(capsys, tmp_path):
    rc, _, err = run(capsys, "validate", str(tmp_path / "nowhere"))
    assert rc == 2 and "neither a folder" in err


@pytest.mark.parametrize("verb", ["validate", "describe"])
def test_help(capsys, verb):
    with pytest.raises(SystemExit) as info:
        main(["data", verb, "--help"])
    assert info.value.code == 0
    assert f"workbench data {verb}" in capsys.readouterr().out


def test_data_without_verb_prints_help(capsys):
    rc = main(["data"])
    assert rc == 2 and "validate" in capsys.readouterr().out


def test_validate_through_the_installed_command(tmp_path, broken_dir):
    exe = Path(sys.executable).with_name("workbench")
    done = subprocess.run([str(exe), "data", "validate", str(broken_dir), "--as-of", AS_OF, "--lang", "en"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    assert "FAILED: 3 problems" in done.stdout and "voice_minutes" in done.stdout


def test_generated_province_validates_cleanly(capsys, tmp_path):
    """The synthetic province of the other half of the data layer passes the validator."""
    from workbench.data.synth.generate import generate_province

    folder = tmp_path / "province"
    generate_province(300, months=3, out=folder, progress=False)
    rc, out, _ = run(capsys, "validate", str(folder), "--lang", "en")
    assert rc == 0, out
    assert "OK: 15 tables valid" in out and "subscribers 300" in out and "imei_days" in out


# ---------------------------------------------------------------- describe
def test_describe_a_table(capsys):
    rc, out, _ = run(capsys, "describe", "vas_orders")
    assert rc == 0
    assert "## `vas_orders`" in out and "`product_id` -> `vas_products.product_id`" in out
    assert "## `subscribers`" not in out and "Bringing your own extract" not in out


def test_describe_everything_is_the_document(capsys):
    rc, out, _ = run(capsys, "describe")
    assert rc == 0 and out == render_data_model()


def test_describe_unknown_table(capsys):
    rc, _, err = run(capsys, "describe", "customers")
    assert rc == 2 and "['customers']" in err


# -------------------------------------------------------------------- docs
def test_committed_data_model_doc_matches_the_rendering():
    assert DEFAULT_PATH == REPO / "docs" / "data-model.md"
    assert DEFAULT_PATH.read_text(encoding="utf-8") == render_data_model(), \
        "docs/data-model.md is stale: run `python -m workbench.data.docs`"


def test_doc_covers_every_table_and_column():
    text = render_data_model()
    for name in TABLE_ORDER:
        assert f"## `{name}`" in text
        for column in TABLES[name].columns:
            assert f"| `{column.name}` |" in text
            assert column.meaning_zh in text
    assert "| `msisdn` | str (`str`) |  | no |  | Phone number (11 digits) - personal data | 手机号码 | yes |" in text
    assert "| `age` | int (`Int64`) | years | yes | 10 to 100 |" in text
    assert "* Primary key: `subscriber_id`, `month` (unique together)" in text
    assert "workbench data validate path/to/extract" in text and "`orphan_key`" in text


def test_render_unknown_table():
    with pytest.raises(ParameterError, match="'tables' parameter .*\\['nope'\\]"):
        render_data_model(["nope"])


def test_docs_main_writes_and_checks(tmp_path, capsys):
    target = tmp_path / "model.md"
    assert docs_main(["--out", str(target), "--check"]) == 1
    assert "out of date" in capsys.readouterr().err
    assert write_data_model(target) == target
    assert docs_main(["--out", str(target), "--check"]) == 0
    assert docs_main(["--out", str(tmp_path / "again.md")]) == 0
    assert (tmp_path / "again.md").read_text(encoding="utf-8") == target.read_text(encoding="utf-8")

"""`workbench trigger detect | wave | evaluate` on the sample province."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from workbench.cli import main
from workbench.triggers import detect_changers, presence_days

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data" / "province"


def run(capsys, *argv) -> tuple[int, str, str]:
    rc = main(["trigger", *argv])
    out, err = capsys.readouterr()
    return rc, out, err


def test_detect_prints_the_days_changers(capsys, tmp_path):
    _, hi = presence_days(SAMPLE)
    day = hi.date().isoformat()
    rc, out, _ = run(capsys, "detect", "--day", day, "--data", str(SAMPLE), "--lang", "en",
                     "--out", str(tmp_path / "c.csv"))
    n = len(detect_changers(SAMPLE, day))
    assert rc == 0 and f"Stable changers of {day}: {n} " in out
    assert len(pd.read_csv(tmp_path / "c.csv")) == n
    rc, out, _ = run(capsys, "detect", "--day", day, "--data", str(SAMPLE), "--json")
    assert rc == 0 and len(json.loads(out)) == n


def test_wave_releases_once_and_writes_masked_platform_files(capsys, tmp_path):
    _, hi = presence_days(SAMPLE)
    day = hi.date().isoformat()
    store = f"sqlite:///{tmp_path / 'store.db'}"
    args = ["wave", "--day", day, "--data", str(SAMPLE), "--store", store, "--run-dir", str(tmp_path / "run"),
            "--lang", "en"]
    rc, out, _ = run(capsys, *args)
    assert rc == 0 and f"Wave of {day} released: campaign 1 version 1" in out
    files = sorted(p.name for p in (tmp_path / "run" / "triggers" / day).iterdir())
    assert files == ["funnel.csv", "sms.csv", "wap_push.csv"]
    sms = pd.read_csv(tmp_path / "run" / "triggers" / day / "sms.csv", dtype=str)
    assert sms["msisdn_masked"].str.fullmatch(r"\d{3}\*{4}\d{4}").all()
    rc, out, _ = run(capsys, *args)
    assert rc == 0 and "already released" in out and "no contact added" in out
    rc, out, _ = run(capsys, "evaluate", "--store", store, "--json")
    result = json.loads(out)
    assert rc == 0 and {a["arm"] for a in result["arms"]} == {"changer", "comparison"}


def test_bad_day_and_missing_presence_exit_2_with_the_reason(capsys, tmp_path):
    rc, _, err = run(capsys, "detect", "--day", "2030-01-01", "--data", str(SAMPLE))
    assert rc == 2 and "'day'" in err and "imei_days covers" in err
    old = tmp_path / "old"
    old.mkdir()
    for f in SAMPLE.iterdir():
        if not f.name.startswith("imei_"):
            (old / f.name).write_bytes(f.read_bytes())
    rc, _, err = run(capsys, "detect", "--day", "2026-10-20", "--data", str(old))
    assert rc == 2 and "imei_days" in err

import pandas as pd
from workbench.cli import main
from workbench.features import build_features

SAMPLE = "sample_data/province"


def test_build_writes_the_same_features_as_the_api(tmp_path, capsys):
    out = tmp_path / "features.parquet"
    assert main(["features", "build", "--data", SAMPLE, "--snapshot", "2026-08", "--window", "3",
                 "--out", str(out)]) == 0
    assert str(out) in capsys.readouterr().out
    got = pd.read_parquet(out).set_index("subscriber_id").sort_index()
    want = build_features(SAMPLE, snapshot="2026-08", window=3)
    assert list(got.columns) == list(want.columns)
    assert len(got) == len(want) > 0
    pd.testing.assert_frame_equal(got, want.sort_index(), check_dtype=False, check_categorical=False)


def test_doc_prints_the_catalogue(capsys):
    assert main(["features", "doc"]) == 0
    text = capsys.readouterr().out
    assert "gprs_mb" in text


def test_missing_source_is_named_and_fails(tmp_path, capsys):
    rc = main(["features", "build", "--data", str(tmp_path / "no_such_folder"), "--snapshot", "2026-08",
               "--out", str(tmp_path / "f.parquet")])
    assert rc == 1
    assert "no_such_folder" in capsys.readouterr().err
    assert not (tmp_path / "f.parquet").exists()

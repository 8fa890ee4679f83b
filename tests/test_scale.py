"""Scale-out on Dask: the switch, features / scores equal to in-process, training quality, loopback only.

The cluster tests share one 2-worker LocalCluster bound to 127.0.0.1.  LightGBM's
training listener binds every interface of its host (C++ ``INADDR_ANY``), so the
training test runs in a child process inside a fresh network namespace
(``unshare -n`` with only the loopback up) whose cluster nobody else can reach.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.errors import DataValidationError, ParameterError, SchemaMismatchError
from workbench.features import build_features as build_in_process
from workbench.models import TargetModel, load_model, save_model
from workbench.models import fingerprint as registry_fingerprint
from workbench.models import score as registry_score
from workbench.models.sample import GROUPS, family_categories, model_columns, model_sample
from workbench.scale import (
    CONFIG_KEY, SCHEDULER_ENV, GlobalEarlyStopping, build_features, fingerprint, fit_target_model, get_client,
    lgb_params, part_files, partition_connection, read_parts, read_scores, resolve_scheduler, score,
    subscriber_ranges, using_scheduler,
)

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "province"
SNAP, WINDOW, FAMILY = "2026-10", 6, "mobile_newspaper"


# ------------------------------------------------------------------ fixtures
@pytest.fixture(autouse=True)
def _no_switch(monkeypatch):
    """No test inherits a scheduler from the developer's environment or Dask config."""
    import dask

    monkeypatch.delenv(SCHEDULER_ENV, raising=False)
    with dask.config.set({CONFIG_KEY: None}):
        yield


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    """The in-process feature table of the sample province."""
    return build_in_process(SAMPLE, SNAP, WINDOW).copy()  # (copy: one block per dtype, no fragmentation warning)


@pytest.fixture(scope="module")
def client():
    with using_scheduler("local", n_workers=2, memory_limit="1536MiB") as c:
        yield c


@pytest.fixture(scope="module")
def dask_features(client, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("scale") / "features"
    return build_features(SAMPLE, SNAP, WINDOW, out=out, scheduler=client, partitions=3, family=FAMILY,
                          progress=False)


@pytest.fixture(scope="module")
def model_folder(reference, tmp_path_factory) -> Path:
    """A small registry model of the mobile newspaper, trained in-process."""
    sample = model_sample(SAMPLE, FAMILY, SNAP)
    cols = model_columns(FAMILY, family_categories(SAMPLE, FAMILY))
    X = reference.loc[sample.rows.index, cols]
    model = TargetModel(validation="holdout", learning_rate=0.2, max_rounds=60, n_jobs=1).fit(X, sample.target)
    folder = tmp_path_factory.mktemp("scale") / "model"
    save_model(model, folder, label_definition={"target": "stable"}, training_window=None, metrics={},
               training_data=X, id_col="subscriber_id")
    return folder


def province_frames() -> dict[str, pd.DataFrame]:
    """Six subscribers with ids out of order, and two usage rows each."""
    ids = [5, 1, 9, 3, 7, 2]
    subs = pd.DataFrame({"subscriber_id": ids, "branch_id": ["hami"] * 6})
    usage = pd.DataFrame({"subscriber_id": ids * 2, "month": pd.to_datetime(["2026-09-01"] * 6 + ["2026-10-01"] * 6)})
    return {"subscribers": subs, "monthly_usage": usage, "branches": pd.DataFrame({"branch_id": ["hami"]})}


def write_parts(folder: Path, frames: list[pd.DataFrame]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for k, df in enumerate(frames):
        df.to_parquet(folder / f"part-{k:05d}.parquet", index=False)
    return folder


# ------------------------------------------------------------------ the switch
def test_scheduler_resolution_order(monkeypatch):
    import dask

    assert resolve_scheduler(None) is None
    with dask.config.set({CONFIG_KEY: "tcp://10.0.0.9:8786"}):
        assert resolve_scheduler(None) == "tcp://10.0.0.9:8786"
        monkeypatch.setenv(SCHEDULER_ENV, "local")
        assert resolve_scheduler(None) == "local"
        assert resolve_scheduler("in-process") is None  # the argument wins over the environment
    assert resolve_scheduler("10.0.0.5:8786") == "tcp://10.0.0.5:8786"
    assert get_client("in-process") is None


@pytest.mark.parametrize("bad", ["yarn", 42, "tcp-ish"])
def test_invalid_scheduler(bad):
    with pytest.raises(ParameterError, match="'scheduler' parameter"):
        resolve_scheduler(bad)


def test_without_the_switch_everything_runs_in_process(monkeypatch, reference, model_folder, tmp_path):
    import distributed

    def refuse(*args, **kwargs):
        raise AssertionError("a Dask client was created without the switch")

    monkeypatch.setattr(distributed.Client, "__init__", refuse)
    out = build_features(SAMPLE, SNAP, WINDOW, out=tmp_path / "f", progress=False)
    assert [p.name for p in part_files(out)] == ["part-00000.parquet"]
    pd.testing.assert_frame_equal(read_parts(out), reference.sort_index())
    scored = read_scores(score(model_folder, out, out=tmp_path / "s", progress=False))
    expected = registry_score(load_model(model_folder), reference.reset_index(), "subscriber_id", reasons=0)
    got = scored.set_index("subscriber_id")["score"].sort_index()
    assert np.array_equal(got.to_numpy(), expected.set_index("subscriber_id")["score"].sort_index().to_numpy())


# ------------------------------------------------------------------ partitions
def test_subscriber_ranges_cover_every_id_once():
    frames = province_frames()
    ranges = subscriber_ranges(frames, partitions=3)
    assert ranges[0][0] == 1 and ranges[-1][1] == 10
    assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:]))
    ids = frames["subscribers"]["subscriber_id"]
    sizes = [int(((ids >= lo) & (ids < hi)).sum()) for lo, hi in ranges]
    assert sizes == [2, 2, 2]
    assert len(subscriber_ranges(frames, partition_size=4)) == 2


def test_subscriber_ranges_errors():
    with pytest.raises(ParameterError, match="'partitions' parameter"):
        subscriber_ranges(province_frames(), partitions=0)
    with pytest.raises(DataValidationError, match="subscribers"):
        subscriber_ranges({"branches": pd.DataFrame({"branch_id": ["hami"]})})


def test_partition_connection_filters_subscriber_tables_only():
    con = partition_connection(province_frames(), 3, 8)
    try:
        assert sorted(r[0] for r in con.execute("SELECT subscriber_id FROM subscribers").fetchall()) == [3, 5, 7]
        assert con.execute("SELECT count(*) FROM monthly_usage").fetchall()[0][0] == 6
        assert con.execute("SELECT count(*) FROM branches").fetchall()[0][0] == 1
    finally:
        con.close()


# ------------------------------------------------------------------ features on Dask
def _listening(pid: int) -> list[tuple[str, int]]:
    import psutil

    return [(c.laddr.ip, c.laddr.port) for c in psutil.Process(pid).net_connections(kind="inet")
            if c.status == psutil.CONN_LISTEN]


def test_cluster_binds_loopback_only(client):
    import os

    info = client.scheduler_info()
    assert info["address"].startswith("tcp://127.0.0.1:")
    assert len(info["workers"]) == 2
    assert all(w.startswith("tcp://127.0.0.1:") for w in info["workers"])
    workers = client.run(os.getpid)
    nannies = client.run(os.getppid)
    for pid in {*workers.values(), *nannies.values()}:
        sockets = _listening(pid)
        assert sockets and all(ip == "127.0.0.1" for ip, _ in sockets), (pid, sockets)
    ports = {int(info["address"].rsplit(":", 1)[1]), *info.get("services", {}).values()}
    mine = [s for s in _listening(os.getpid()) if s[1] in ports]  # the scheduler runs in this process
    assert len(mine) == len(ports) and all(ip == "127.0.0.1" for ip, _ in mine), mine


def test_dask_features_equal_in_process(dask_features, reference):
    files = part_files(dask_features)
    assert len(files) == 3
    ranges = []
    for f in files:  # each part is a Parquet file of one sorted, disjoint id range
        ids = pd.read_parquet(f, columns=["subscriber_id"])["subscriber_id"]
        assert ids.is_monotonic_increasing and len(ids) > 0
        ranges.append((ids.iloc[0], ids.iloc[-1]))
    assert all(a[1] < b[0] for a, b in zip(ranges, ranges[1:]))
    got = read_parts(dask_features)
    pd.testing.assert_frame_equal(got.drop(columns=["group", "target"]), reference.sort_index())


def test_dask_features_carry_the_model_sample(dask_features):
    got = read_parts(dask_features, columns=["group", "target"])
    sample = model_sample(SAMPLE, FAMILY, SNAP)
    in_sample = got[got["group"] != GROUPS[2]]
    assert in_sample.index.equals(sample.rows.index)
    assert (in_sample["group"] == sample.rows["group"]).all()
    assert np.array_equal(in_sample["target"].to_numpy(), sample.target)
    assert int((got["group"] == GROUPS[2]).sum()) == sample.composition.recent


def test_dask_features_errors(client, tmp_path):
    with pytest.raises(ParameterError, match="shared storage"):
        build_features(province_frames_full(), SNAP, WINDOW, out=tmp_path / "f", scheduler=client)
    (tmp_path / "file.parquet").write_bytes(b"")
    with pytest.raises(ParameterError, match="'out' parameter"):
        build_features(SAMPLE, SNAP, WINDOW, out=tmp_path / "file.parquet")
    with pytest.raises(ParameterError, match="'memory_fraction' parameter"):
        build_features(SAMPLE, SNAP, WINDOW, out=tmp_path / "f", memory_fraction=1.5)
    with pytest.raises(DataValidationError, match="monthly_usage"):
        build_features(province_frames(), SNAP, WINDOW, out=tmp_path / "f")


def province_frames_full() -> dict[str, pd.DataFrame]:
    """The sample province's tables in memory (valid for in-process, refused on a cluster)."""
    return {p.stem: pd.read_parquet(p) for p in SAMPLE.glob("*.parquet")}


# ------------------------------------------------------------------ scoring on Dask
def test_dask_scores_identical_to_in_process(client, dask_features, model_folder, reference, tmp_path):
    out = score(model_folder, dask_features, out=tmp_path / "scores", scheduler=client, keep=["branch_id"],
                progress=False)
    assert len(part_files(out)) >= 2
    got = read_scores(out)
    assert list(got.columns) == ["subscriber_id", "score", "branch_id"]
    expected = registry_score(load_model(model_folder), reference.reset_index(), "subscriber_id", reasons=0)
    a = got.set_index("subscriber_id").sort_index()
    b = expected.set_index("subscriber_id").sort_index()
    assert a.index.equals(b.index)
    assert np.array_equal(a["score"].to_numpy(), b["score"].to_numpy())  # exact, not approximate
    assert (a["branch_id"] == reference.sort_index()["branch_id"].astype("str")).all()


def test_dask_scores_a_query_of_rows(client, dask_features, model_folder, tmp_path):
    out = score(model_folder, dask_features, out=tmp_path / "pot", scheduler=client,
                query="group == 'potential'", progress=False)
    sample = model_sample(SAMPLE, FAMILY, SNAP)
    assert sorted(read_scores(out)["subscriber_id"]) == sorted(sample.potential_ids)


def test_score_errors(model_folder, tmp_path, reference):
    with pytest.raises(ParameterError, match="'folder' parameter"):
        score(model_folder, tmp_path / "nothing", out=tmp_path / "s")
    parts = write_parts(tmp_path / "bad", [reference.reset_index()[["subscriber_id", "age"]].head(5)])
    with pytest.raises(SchemaMismatchError, match="lack column"):
        score(model_folder, parts, out=tmp_path / "s", progress=False)
    dup = reference.reset_index().head(4)
    dup.loc[1, "subscriber_id"] = dup.loc[0, "subscriber_id"]
    parts = write_parts(tmp_path / "dup", [dup])
    with pytest.raises(DataValidationError, match="unique"):
        score(model_folder, parts, out=tmp_path / "s", progress=False)


# ------------------------------------------------------------------ training pieces (in-process)
def _param_block(booster) -> dict[str, str]:
    text = booster.model_to_string().split("parameters:")[1].split("end of parameters")[0]
    return {line.split(":")[0].strip("["): line for line in text.strip().splitlines()}


def test_lgb_params_are_target_models():
    import lightgbm as lgb

    rng = np.random.default_rng(3)
    X = pd.DataFrame({"a": rng.normal(size=4000), "b": rng.normal(size=4000)})
    y = (X["a"] + rng.normal(size=4000) > 1.8).astype(int)
    template = TargetModel(validation="holdout", n_jobs=1, num_leaves=9)
    fitted = TargetModel(**template.get_params()).fit(X, y)
    _, params = lgb_params(template, fitted.params_["n_train_rows"], fitted.params_["n_minority"],
                           fitted.params_["seed"])
    assert "num_threads" not in params
    mine = lgb.train({**params, "num_threads": 1}, lgb.Dataset(X.to_numpy(), y.to_numpy()), num_boost_round=3)
    ours, theirs = _param_block(mine), _param_block(fitted.booster_)
    differ = {k for k in set(ours) | set(theirs) if ours.get(k) != theirs.get(k)}
    assert differ <= {"num_iterations"}, differ


def test_global_early_stopping_stops_where_lightgbm_does():
    import lightgbm as lgb

    rng = np.random.default_rng(5)
    X = rng.normal(size=(3000, 4))
    y = (X[:, 0] + rng.normal(scale=2.0, size=3000) > 1.5).astype(float)
    Xt, yt, Xv, yv = X[:2400], y[:2400], X[2400:], y[2400:]
    params = {"objective": "binary", "learning_rate": 0.3, "num_leaves": 15, "verbose": -1, "num_threads": 1,
              "deterministic": True, "seed": 0}
    ref = lgb.train(params, lgb.Dataset(Xt, yt), 300, valid_sets=[lgb.Dataset(Xv, yv)],
                    callbacks=[lgb.early_stopping(10, verbose=False)])
    stop = GlobalEarlyStopping(Xv, yv, patience=10)
    ours = lgb.train(params, lgb.Dataset(Xt, yt), 300, callbacks=[stop])
    assert ref.best_iteration < 300
    assert ours.best_iteration == ref.best_iteration
    assert stop.best == pytest.approx(ref.best_score["valid_0"]["binary_logloss"], rel=1e-9)


def test_fingerprint_equals_the_registrys(tmp_path):
    a = pd.DataFrame({"x": [1.5, 2.0], "c": pd.array(["a", "b"], dtype="str"), "k": [1, 0]})
    b = pd.DataFrame({"x": [3.0], "c": pd.array([None], dtype="str"), "k": [1]})
    folder = write_parts(tmp_path / "fp", [a, b])
    whole = pd.concat([pd.read_parquet(f) for f in part_files(folder)], ignore_index=True)
    assert fingerprint(folder, ["x", "c"]) == registry_fingerprint(whole[["x", "c"]])
    assert fingerprint(folder, ["x"], query="k == 1") == registry_fingerprint(whole[whole["k"] == 1][["x"]])


def test_fit_errors(tmp_path):
    folder = write_parts(tmp_path / "t", [pd.DataFrame({"subscriber_id": [1, 2], "x": [0.1, 0.2], "y": [0, 1]})])
    with pytest.raises(ParameterError, match="'target' column 'label'"):
        fit_target_model(folder, "label")
    with pytest.raises(ParameterError, match=r"features \['z'\]"):
        fit_target_model(folder, "y", features=["z"])
    with pytest.raises(ParameterError, match="'max_validation_rows' parameter"):
        fit_target_model(folder, "y", max_validation_rows=1)
    with pytest.raises(ParameterError, match="no feature column"):
        fit_target_model(folder, "y", exclude=["x"])


def test_fit_in_process_on_any_table(tmp_path):
    rng = np.random.default_rng(2)
    df = pd.DataFrame({"uid": np.arange(600), "x": rng.normal(size=600),
                       "brand": pd.array(rng.choice(["a", "b"], 600), dtype="str")})
    df["bought"] = (df["x"] + rng.normal(size=600) > 1.0).astype(int)
    folder = write_parts(tmp_path / "any", [df.iloc[:300], df.iloc[300:]])
    model = fit_target_model(folder, "bought", id_col="uid", model=TargetModel(n_jobs=1, max_rounds=50))
    assert model.params_["engine"] == "in-process" and model.feature_names_ == ["x", "brand"]
    assert model.params_["n_rows"] == 600


def test_fit_on_dask_needs_two_classes(client, tmp_path):
    df = pd.DataFrame({"subscriber_id": np.arange(40), "x": np.linspace(0, 1, 40), "y": np.zeros(40, dtype=int)})
    folder = write_parts(tmp_path / "one", [df.iloc[:20], df.iloc[20:]])
    with pytest.raises(DataValidationError, match="exactly two classes"):
        fit_target_model(folder, "y", scheduler=client)  # fails in the summary pass, before LightGBM listens


# ------------------------------------------------------------------ training on Dask (network namespace)
_TRAIN_CHECK = r"""
import json, sys, warnings
from pathlib import Path
import numpy as np, pandas as pd
from sklearn.metrics import roc_auc_score
warnings.simplefilter("ignore")
from workbench.campaign.control import hash_uniform
from workbench.models import TargetModel, load_model
from workbench.models.sample import family_categories, model_columns
from workbench.scale import fit_target_model, part_files, read_parts, save_model, using_scheduler

sample, features, work = map(Path, sys.argv[1:4])
cols = model_columns("mobile_newspaper", family_categories(sample, "mobile_newspaper"))
(work / "train").mkdir(parents=True); (work / "test").mkdir()
for k, f in enumerate(part_files(features)):  # a fixed 30 % of every part is the test set
    df = pd.read_parquet(f)
    u = hash_uniform(df["subscriber_id"].to_numpy(), 11, salt="test")
    df[u >= 0.3].to_parquet(work / "train" / f.name, index=False)
    df[u < 0.3].to_parquet(work / "test" / f.name, index=False)
test = read_parts(work / "test").query("group != 'recent'")
template = TargetModel(validation="holdout", learning_rate=0.1, random_state=0)
kw = dict(features=cols, query="group != 'recent'", model=template)
inproc = fit_target_model(work / "train", "target", scheduler="in-process", **kw)
with using_scheduler("local", n_workers=2, memory_limit="1536MiB") as client:
    model = fit_target_model(work / "train", "target", scheduler=client, **kw)
    folder = save_model(model, work / "model", training_data=work / "train", query="group != 'recent'",
                        label_definition={"target": "stable"}, training_window=None, metrics={}, scheduler=client)
reloaded = load_model(folder)
p_dask = model.predict_proba(test)[:, 1]
text = model.booster_.model_to_string()
print(json.dumps({
    "auc_in_process": roc_auc_score(test["target"], inproc.predict_proba(test)[:, 1]),
    "auc_dask": roc_auc_score(test["target"], p_dask),
    "engine": model.params_["engine"], "n_workers": model.params_["n_workers"],
    "validation": model.params_["validation"], "rounds": model.best_iteration_,
    "machines_2": "[num_machines: 2]" in text,
    "reloaded_equal": bool(np.array_equal(reloaded.predict_proba(test)[:, 1], p_dask)),
    "fingerprint_rows": json.loads((folder / "model.json").read_text())["fingerprint"]["rows"],
    "training_rows": model.params_["n_rows"],
}))
"""


def _namespace_prefix() -> list[str]:
    """``unshare -n`` with the loopback up, when this machine allows it (root or user namespaces)."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0:
        return [unshare, "-n", "sh", "-c", 'ip link set lo up && exec "$0" "$@"']
    warnings.warn("unshare -n is not available: the LightGBM training test runs in the host's network "
                  "namespace (LightGBM's listener binds all interfaces for its duration)", stacklevel=2)
    return []


@pytest.mark.slow
def test_training_on_dask_reaches_in_process_quality(dask_features, tmp_path):
    cmd = [*_namespace_prefix(), sys.executable, "-c", _TRAIN_CHECK, str(SAMPLE), str(dask_features),
           str(tmp_path / "work")]
    env = {k: v for k, v in __import__("os").environ.items() if k != SCHEDULER_ENV}
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=ROOT, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["engine"] == "dask" and result["n_workers"] == 2 and result["machines_2"]
    assert result["validation"] == "holdout" and result["rounds"] < 5000
    assert result["auc_dask"] > 0.75
    assert abs(result["auc_dask"] - result["auc_in_process"]) < 0.02, result
    assert result["reloaded_equal"]
    assert result["fingerprint_rows"] == result["training_rows"]


# ------------------------------------------------------------------ command line
def test_cli_features_and_score_in_process(model_folder, tmp_path, capsys, reference):
    from workbench.cli import main

    assert main(["scale", "features", "--data", str(SAMPLE), "--out", str(tmp_path / "f"), "--family", FAMILY,
                 "--scheduler", "in-process", "--no-progress"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["engine"] == "in-process" and summary["parts"] == 1
    assert main(["scale", "score", "--model", str(model_folder), "--data", str(tmp_path / "f"),
                 "--out", str(tmp_path / "s"), "--query", "group == 'potential'", "--no-progress"]) == 0
    json.loads(capsys.readouterr().out)
    assert len(read_scores(tmp_path / "s")) == model_sample(SAMPLE, FAMILY, SNAP).composition.potential
    assert main(["scale", "train", "--data", str(tmp_path / "f"), "--out", str(tmp_path / "m"),
                 "--family", FAMILY, "--no-progress"]) == 1
    assert "--source" in capsys.readouterr().err

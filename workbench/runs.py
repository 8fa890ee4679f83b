"""The run folder: one owner of its layout, of every file in it and of its manifest ``run.json``.

A run folder holds what the steps of the closed loop leave for each other::

    status_findings.json   template 01: the status findings
    goal.json              template 02: the goal
    model/                 template 03: the model (registry folder)
    monitoring/            template 09: the monitored model (model/ and its scores)
    scores.parquet         template 03: the look-alike scores
    campaign.json          template 04: the released campaign (id, version, store URL)
    plan/                  template 04: the plan (CampaignPlan.save)
    simulation/            the demo's simulated execution
    <template>.ipynb/.html the executed notebook and report of each template run
    run.json               the manifest: one record per step

Every file name is defined here once (:data:`LAYOUT`); every read and write goes
through :class:`RunFolder`, which records it in the manifest: the step's name,
parameters, inputs with their content hashes (sha256 of a file, or of the files
of a folder), outputs, code version and start / end time.  A step whose inputs
changed since it ran is *stale* (:meth:`RunFolder.stale_steps`), and so is a step
that used the output of a stale step; a step reading such an input shows a
warning (labels ``runs.stale.*``).

Examples
--------
In a template, the setup cell starts the step (its parameters are taken from
the notebook's parameters cell)::

    run_folder = RunFolder(run_dir).step("02_goal_setting")
    ...
    path = write_goal(goal, run_folder)   # workbench.status.goal.write_goal checks, then writes here

From Python::

    >>> folder = RunFolder("runs/demo-1")                      # doctest: +SKIP
    >>> [s.message("en") for s in folder.stale_steps()]        # doctest: +SKIP
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import os
import subprocess
import sys
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from workbench.checks import jsonable
from workbench.errors import ParameterError, WorkbenchError

__all__ = [
    "FINDINGS_FILE",
    "GOAL_FILE",
    "MODEL_DIR",
    "SCORES_FILE",
    "CAMPAIGN_FILE",
    "PLAN_DIR",
    "SIMULATION_DIR",
    "SIMULATION_FILE",
    "MANIFEST_FILE",
    "CREDIT_MODEL_DIR",
    "CREDIT_GRADES_FILE",
    "OCS_RULES_FILE",
    "DUNNING_FILE",
    "STORE_FILE",
    "SCORE_HISTORY_FILE",
    "MONITORING_DIR",
    "append_score_history",
    "read_score_history",
    "LAYOUT",
    "MANIFEST_FORMAT",
    "RunFileMissing",
    "StaleInputWarning",
    "StaleInput",
    "RunFolder",
    "file_hash",
    "path_hash",
    "code_version",
    "resolve_run_dir",
    "next_run_dir",
    "other_campaigns",
    "other_campaigns_story",
]

#: Status findings of template 01.
FINDINGS_FILE = "status_findings.json"
#: The goal of template 02.
GOAL_FILE = "goal.json"
#: The model folder of template 03 (model registry folder + ``province.json``).
MODEL_DIR = "model"
#: The look-alike scores of template 03.
SCORES_FILE = "scores.parquet"
#: The campaign template 04 released (campaign id, version, store URL ...).
CAMPAIGN_FILE = "campaign.json"
#: The plan template 04 released (:meth:`workbench.campaign.planning.CampaignPlan.save`).
PLAN_DIR = "plan"
#: Folder of a simulated execution (the demo's ``simulate`` step).
SIMULATION_DIR = "simulation"
#: The summary of a simulated execution, inside :data:`SIMULATION_DIR`.
SIMULATION_FILE = "simulation.json"
#: Folder of the trigger campaign's waves (template 08): ``<day>/<channel>.csv`` for the SMS / WAP-Push
#: platforms (masked numbers) and ``<day>/funnel.csv``.
TRIGGERS_DIR = "triggers"
#: The manifest of the run folder.
MANIFEST_FILE = "run.json"
#: The credit model folder of template 07 (:func:`workbench.credit.model.load_credit_model`).
CREDIT_MODEL_DIR = "credit_model"
#: The new users' credit grades of template 07 (``subscriber_id, segment, score, grade``).
CREDIT_GRADES_FILE = "credit_grades.parquet"
#: The OCS rules per grade of template 07 (CSV).
OCS_RULES_FILE = "ocs_rules.csv"
#: The dunning priority list of template 07 (CSV).
DUNNING_FILE = "dunning.csv"
#: The SQLite store of a run folder that has no other store.
STORE_FILE = "store.sqlite"
#: Template 09's folder: the monitored model (a run folder of its own: ``model/``, ``scores.parquet``).
MONITORING_DIR = "monitoring"
#: The score history of a workspace: one JSON line per scoring run, in the runs root (not in a run folder).
SCORE_HISTORY_FILE = "score_history.jsonl"
#: What a run folder holds: kind -> (path inside the folder, step that writes it).
LAYOUT: dict[str, tuple[str, str]] = {
    "findings": (FINDINGS_FILE, "01_status_analysis"),
    "goal": (GOAL_FILE, "02_goal_setting"),
    "model": (MODEL_DIR, "03_target_model"),
    "scores": (SCORES_FILE, "03_target_model"),
    "campaign": (CAMPAIGN_FILE, "04_campaign_design"),
    "plan": (PLAN_DIR, "04_campaign_design"),
    "simulation": (SIMULATION_DIR, "simulate"),
    "triggers": (TRIGGERS_DIR, "08_handset_triggers"),
    "credit_model": (CREDIT_MODEL_DIR, "07_credit_grading"),
    "credit_grades": (CREDIT_GRADES_FILE, "07_credit_grading"),
    "ocs_rules": (OCS_RULES_FILE, "07_credit_grading"),
    "dunning": (DUNNING_FILE, "07_credit_grading"),
    "monitoring": (MONITORING_DIR, "09_model_monitoring"),
}
#: ``format`` entry of ``run.json``.
MANIFEST_FORMAT: dict = {"name": "workbench.run", "version": 1}
# Kinds of the layout that are folders.
_FOLDERS: tuple[str, ...] = ("model", "plan", "simulation", "triggers", "credit_model", "monitoring")
# Parameters whose value is a path outside the run folder that the step reads (hashed as inputs).
_EXTERNAL_INPUTS: tuple[str, ...] = ("data",)
# The active step of each run folder in this process: resolved folder -> step name.
_ACTIVE: dict[Path, str] = {}
# Warnings already shown: (folder, step, producer).
_WARNED: set[tuple[Path, str, str]] = set()
# File hashes by (path, size, mtime_ns).
_HASHES: dict[tuple[str, int, int], str] = {}


class RunFileMissing(WorkbenchError, FileNotFoundError):
    """A run folder lacks a file a step needs; the message names the file and the template that writes it."""


class StaleInputWarning(UserWarning):
    """A step reads a file whose producer ran on inputs that have changed since."""


# ----------------------------------------------------------------- hashes and code version
def file_hash(path: str | os.PathLike) -> str:
    """sha256 of a file's content (cached while its size and modification time stay the same)."""
    p = Path(path)
    st = p.stat()
    key = (str(p.resolve()), st.st_size, st.st_mtime_ns)
    found = _HASHES.get(key)
    if found is None:
        digest = hashlib.sha256()
        with p.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        found = _HASHES[key] = digest.hexdigest()
    return found


def path_hash(path: str | os.PathLike) -> str | None:
    """sha256 of a file, or of a folder's files (their relative paths and contents); ``None`` when absent."""
    p = Path(path)
    if p.is_file():
        return file_hash(p)
    if not p.is_dir():
        return None
    digest = hashlib.sha256()
    for f in sorted(q for q in p.rglob("*") if q.is_file()):
        digest.update(f.relative_to(p).as_posix().encode("utf-8") + b"\0" + file_hash(f).encode("ascii") + b"\n")
    return digest.hexdigest()


@functools.lru_cache(maxsize=1)
def code_version() -> dict:
    """``{"package": version, "commit": git commit or None}`` of the running workbench."""
    from workbench import __version__

    commit = None
    root = Path(__file__).resolve().parent.parent
    if (root / ".git").exists():
        try:
            out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                                 timeout=10, check=False)
            commit = out.stdout.strip() or None if out.returncode == 0 else None
        except (OSError, subprocess.SubprocessError):
            commit = None
    return {"package": __version__, "commit": commit}


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


# ----------------------------------------------------------------- stale inputs
@dataclass(frozen=True)
class StaleInput:
    """Why the outputs of a step are out of date.

    Attributes
    ----------
    step : str
        The step whose outputs are out of date.
    input : str
        The input (a path inside the run folder, or an outside path such as the data).
    reason : {"changed", "missing", "upstream"}
        The input changed since the step ran, was removed, or was written by a
        step that is out of date itself.
    producer : str or None
        The step that wrote the input (for ``upstream``: the stale step).
    """

    step: str
    input: str
    reason: str
    producer: str | None = None

    def message(self, lang: str | None = None) -> str:
        """The warning in words (labels ``runs.stale.<reason>``)."""
        from workbench.i18n import t

        return t(f"runs.stale.{self.reason}", lang=lang, step=self.step, input=self.input,
                 producer=self.producer or "-")


def _show_warning(text: str) -> None:
    """Show ``text`` as Markdown in a notebook's kernel, else as a :class:`StaleInputWarning`."""
    shell = None
    if "IPython" in sys.modules:
        from IPython import get_ipython

        shell = get_ipython()
    if shell is not None and type(shell).__name__ == "ZMQInteractiveShell":
        from IPython.display import display

        display({"text/markdown": f"> ⚠ {text}", "text/plain": text}, raw=True)
    else:
        warnings.warn(text, StaleInputWarning, stacklevel=3)


# ----------------------------------------------------------------- the run folder
class RunFolder:
    """A run folder: where each file of a step lives, its reads and writes, and the manifest ``run.json``.

    Parameters
    ----------
    path : path or RunFolder
        The folder (created when a step writes to it).

    Notes
    -----
    Reads and writes are recorded in the manifest under the *active* step of
    the folder (:meth:`step`); without one nothing is recorded.  The active
    step is kept per process and folder, so the package's functions that take
    a ``run_dir`` record into the step a template started.
    """

    def __init__(self, path: str | os.PathLike | RunFolder):
        if isinstance(path, RunFolder):
            path = path.path
        if path is None or (isinstance(path, str) and not path.strip()):
            raise ParameterError.invalid("run_dir", "a folder path", path)
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunFolder({str(self.path)!r})"

    def __fspath__(self) -> str:
        return os.fspath(self.path)

    @classmethod
    def of(cls, run_dir: str | os.PathLike | RunFolder) -> RunFolder:
        """``run_dir`` as a :class:`RunFolder` (itself when it is one)."""
        return run_dir if isinstance(run_dir, RunFolder) else cls(run_dir)

    @property
    def _key(self) -> Path:
        return self.path.resolve()

    # -------------------------------------------------------------- layout
    def file(self, kind: str) -> Path:
        """Path of a file (or folder) of :data:`LAYOUT`, of the manifest (``"manifest"``) or of the store
        (``"store"``); :meth:`report` gives a template's notebook and report."""
        if kind in LAYOUT:
            return self.path / LAYOUT[kind][0]
        if kind == "manifest":
            return self.path / MANIFEST_FILE
        if kind == "store":
            return self.path / STORE_FILE
        raise ParameterError.invalid("kind", f"one of {[*LAYOUT, 'manifest', 'store']}", kind)

    def report(self, template: str, suffix: str = ".html") -> Path:
        """The executed notebook (``.ipynb``) or report (``.html``) of a template run in this folder."""
        return self.path / f"{template}{suffix}"

    def require(self, kind: str) -> Path:
        """The path of ``kind``; :class:`RunFileMissing` naming the file and its writer when it is absent."""
        path = self.file(kind)
        if not path.exists():
            name, writer = LAYOUT[kind]
            name = f"{name}/" if kind in _FOLDERS else name
            raise RunFileMissing(
                f"The 'run_dir' {os.fspath(self.path)!r} holds no {name}: run {_writer_text(writer)} with this "
                f"run_dir first (it writes {name}).")
        return path

    def exists(self, kind: str) -> bool:
        """Whether the folder holds ``kind``."""
        return self.file(kind).exists()

    def store_url(self) -> str:
        """``sqlite:///<folder>/store.sqlite`` (absolute): the store of a folder that names no other."""
        return f"sqlite:///{self.file('store').resolve().as_posix()}"

    # -------------------------------------------------------------- manifest
    def manifest(self) -> dict:
        """The manifest (``run.json``); an empty one when the folder has none."""
        path = self.file("manifest")
        if path.is_file():
            try:
                found = json.loads(path.read_text(encoding="utf-8"))
                if isinstance(found, dict) and found.get("format", {}).get("name") == MANIFEST_FORMAT["name"]:
                    found.setdefault("steps", {})
                    found.setdefault("history", [])
                    return found
            except ValueError:
                pass
        return {"format": dict(MANIFEST_FORMAT), "steps": {}, "history": []}

    def _save_manifest(self, manifest: Mapping) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        path = self.file("manifest")
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(jsonable(manifest), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, path)

    def steps(self) -> dict[str, dict]:
        """The recorded steps: name -> record (``parameters, inputs, outputs, code, started, finished``)."""
        return self.manifest()["steps"]

    @property
    def active_step(self) -> str | None:
        """The step reads and writes are recorded under, if any."""
        return _ACTIVE.get(self._key)

    def step(self, name: str, parameters: Mapping | None = None) -> RunFolder:
        """Start the step ``name``: its earlier record is replaced; return the folder (for one-line use).

        Parameters
        ----------
        name : str
            The step: a template name (``"04_campaign_design"``) or a step such as ``"simulate"``.
        parameters : mapping, optional
            The step's parameters.  Default: for a template, the values its parameters cell
            declares, taken from the calling notebook's variables.

        Notes
        -----
        A parameter ``data`` naming an existing path is recorded as an input with its hash.
        """
        if not isinstance(name, str) or not name.strip():
            raise ParameterError.invalid("name", "a step name such as '04_campaign_design'", name)
        if parameters is None:
            parameters = _caller_parameters(name, sys._getframe(1).f_globals)
        manifest = self.manifest()
        record = {"step": name, "parameters": jsonable(dict(parameters)), "inputs": {}, "outputs": {},
                  "code": code_version(), "started": _now(), "finished": None}
        for key in _EXTERNAL_INPUTS:
            value = parameters.get(key)
            if isinstance(value, (str, os.PathLike)) and str(value) and Path(value).exists():
                target = Path(value).resolve()
                record["inputs"][key] = {"path": target.as_posix(), "sha256": path_hash(target), "step": None}
        manifest["steps"][name] = record
        manifest["history"].append({"step": name, "started": record["started"]})
        self._save_manifest(manifest)
        _ACTIVE[self._key] = name
        for (folder, step, producer) in list(_WARNED):
            if folder == self._key and step == name:
                _WARNED.discard((folder, step, producer))
        return self

    def finish(self, name: str | None = None, *, parameters: Mapping | None = None,
               outputs: Iterable[str | os.PathLike] = ()) -> dict:
        """End a step: record ``outputs`` (e.g. its report) and the end time; return its record.

        A step that did not record itself (its notebook has no :meth:`step` call) is
        recorded here with ``parameters``.
        """
        name = name or self.active_step
        if name is None:
            raise ParameterError("No step to finish: start one with RunFolder(run_dir).step(name).")
        manifest = self.manifest()
        record = manifest["steps"].get(name)
        if record is None:
            record = {"step": name, "parameters": jsonable(dict(parameters or {})), "inputs": {}, "outputs": {},
                      "code": code_version(), "started": _now(), "finished": None}
            manifest["steps"][name] = record
            manifest["history"].append({"step": name, "started": record["started"]})
        for out in outputs:
            rel = self._relative(out)
            if rel is not None:
                record["outputs"][rel] = {"sha256": path_hash(self.path / rel)}
        record["finished"] = _now()
        for entry in reversed(manifest["history"]):
            if entry["step"] == name:
                entry["finished"] = record["finished"]
                break
        self._save_manifest(manifest)
        if _ACTIVE.get(self._key) == name:
            del _ACTIVE[self._key]
        return record

    def _relative(self, target) -> str | None:
        """``target`` (a kind of :data:`LAYOUT` or a path) relative to the folder; None outside it."""
        path = self.file(target) if isinstance(target, str) and target in LAYOUT else Path(target)
        try:
            return path.resolve().relative_to(self._key).as_posix()
        except ValueError:
            return None

    def _producer(self, manifest: Mapping, rel: str) -> str | None:
        """The step whose recorded outputs hold ``rel`` (the newest one)."""
        found = None
        for name, record in manifest["steps"].items():
            if rel in record.get("outputs", {}):
                if found is None or (record.get("started") or "") >= (manifest["steps"][found].get("started") or ""):
                    found = name
        if found is None:
            for path, writer in LAYOUT.values():
                if path == rel and writer in manifest["steps"]:
                    return writer
        return found

    def _active_record(self, target) -> tuple[str, dict, dict, str] | None:
        """``(active step, manifest, its record, target relative to the folder)``, or ``None`` when no step
        is active, the target lies outside the folder or the step has no record."""
        step = self.active_step
        rel = self._relative(target)
        if step is None or rel is None:
            return None
        manifest = self.manifest()
        record = manifest["steps"].get(step)
        return None if record is None else (step, manifest, record, rel)

    def record_input(self, target) -> None:
        """Record that the active step read ``target`` (a kind of :data:`LAYOUT` or a path in the folder).

        Warns (:class:`StaleInputWarning`, or a Markdown note in a notebook) when the step that wrote it
        is out of date.
        """
        found = self._active_record(target)
        if found is None or found[3] in found[2]["outputs"]:
            return
        step, manifest, record, rel = found
        producer = self._producer(manifest, rel)
        if producer == step:
            return
        record["inputs"][rel] = {"sha256": path_hash(self.path / rel), "step": producer}
        self._save_manifest(manifest)
        if producer is not None:
            for stale in self._stale(manifest):
                if stale.step == producer and (self._key, step, producer) not in _WARNED:
                    _WARNED.add((self._key, step, producer))
                    from workbench.i18n import t

                    _show_warning(t("runs.stale.reading", step=step, input=rel, producer=producer,
                                    reason=stale.message()))
                    break

    def record_output(self, target) -> None:
        """Record that the active step wrote ``target`` (a kind of :data:`LAYOUT` or a path in the folder)."""
        found = self._active_record(target)
        if found is None:
            return
        _, manifest, record, rel = found
        record["inputs"].pop(rel, None)
        record["outputs"][rel] = {"sha256": path_hash(self.path / rel)}
        record["finished"] = _now()
        self._save_manifest(manifest)

    def record_checks(self, checks: Iterable, name: str | None = None) -> list[dict]:
        """Record a step's method checks (:mod:`workbench.methodchecks`) in the manifest; return them as stored.

        Parameters
        ----------
        checks : iterable of MethodCheck (or mappings)
            Each is stored as plain data (``check, code, severity, values, action, subject``) in the
            step's record under ``"checks"``, replacing what the step recorded before.
        name : str, optional
            The step (default: the active one).

        Raises
        ------
        ParameterError
            When no step is named or active, or the step has no record in the manifest.
        """
        name = name or self.active_step
        manifest = self.manifest()
        record = manifest["steps"].get(name) if name else None
        if record is None:
            raise ParameterError.invalid("name", f"a step recorded in {MANIFEST_FILE} ({sorted(manifest['steps'])})",
                                         name)
        stored = [jsonable(c.to_dict() if hasattr(c, "to_dict") else dict(c)) for c in checks]
        record["checks"] = stored
        self._save_manifest(manifest)
        return stored

    def checks(self, name: str) -> list[dict]:
        """The method checks recorded for step ``name`` (empty when it recorded none)."""
        return list(self.steps().get(name, {}).get("checks", []))

    def model_snapshot(self) -> str | None:
        """The snapshot (``YYYY-MM``) the folder's model was trained at (``model/province.json``); None when the
        folder has no such model (e.g. scores given as a file)."""
        path = self.file("model") / "province.json"
        if not path.is_file():
            return None
        try:
            found = json.loads(path.read_text(encoding="utf-8")).get("snapshot")
        except (ValueError, AttributeError):
            return None
        return str(found)[:7] if found else None

    # -------------------------------------------------------------- stale steps
    def _stale(self, manifest: Mapping) -> list[StaleInput]:
        found: dict[str, StaleInput] = {}
        steps = manifest["steps"]
        for name, record in steps.items():
            for key, rec in record.get("inputs", {}).items():
                path = Path(rec["path"]) if "path" in rec else self.path / key
                now = path_hash(path)
                if now != rec.get("sha256"):
                    reason = "missing" if now is None else "changed"
                    producer = self._producer(manifest, key) if "path" not in rec else None
                    found.setdefault(name, StaleInput(name, key, reason, producer))
        changed = True
        while changed:
            changed = False
            for name, record in steps.items():
                if name in found:
                    continue
                for key, rec in record.get("inputs", {}).items():
                    if rec.get("step") in found and rec.get("step") != name:
                        found[name] = StaleInput(name, key, "upstream", rec["step"])
                        changed = True
                        break
        order = list(steps)
        return sorted(found.values(), key=lambda s: order.index(s.step))

    def stale_steps(self) -> list[StaleInput]:
        """The steps whose outputs are out of date, in the order they first ran, with the first reason of each.

        A step is stale when an input it read has changed (or is gone) since it ran, or when an
        input it read was written by a stale step.
        """
        return self._stale(self.manifest())

    def check_inputs(self, step: str) -> list[StaleInput]:
        """Why ``step``'s outputs, or the inputs it read, are out of date (empty when all is current).

        Holds the step's own entry of :meth:`stale_steps` and those of the steps that wrote its inputs.
        """
        manifest = self.manifest()
        record = manifest["steps"].get(step)
        if record is None:
            return []
        producers = {rec.get("step") for rec in record.get("inputs", {}).values()} - {None}
        return [s for s in self._stale(manifest) if s.step == step or s.step in producers]

    # -------------------------------------------------------------- JSON files
    def read_json(self, kind: str) -> dict:
        """A JSON file of the layout (recorded as an input); :class:`RunFileMissing` when absent."""
        path = self.require(kind)
        found = json.loads(path.read_text(encoding="utf-8"))
        self.record_input(kind)
        return found

    def write_json(self, kind: str, data: Mapping) -> Path:
        """Write a JSON file of the layout (through :func:`~workbench.checks.jsonable`; recorded as an output)."""
        path = self.file(kind)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(jsonable(data), ensure_ascii=False, indent=2, allow_nan=False) + "\n",
                        encoding="utf-8")
        self.record_output(kind)
        return path

    # -------------------------------------------------------------- the files of each step
    def write_findings(self, findings: Mapping) -> Path:
        """Template 01's findings -> :data:`FINDINGS_FILE`."""
        if not isinstance(findings, Mapping) or "product" not in findings:
            raise ParameterError.invalid("findings", "the dict status_findings() returns", type(findings).__name__)
        return self.write_json("findings", findings)

    def read_findings(self) -> dict | None:
        """Template 01's findings, or ``None`` when absent or unreadable."""
        if not self.file("findings").is_file():
            return None
        try:
            return self.read_json("findings")
        except (OSError, ValueError):
            return None

    def read_goal(self) -> dict:
        """Template 02's goal; :class:`RunFileMissing` naming template 02 when absent."""
        return self.read_json("goal")

    def write_campaign(self, data: Mapping) -> Path:
        """The campaign pointer (:data:`CAMPAIGN_FILE`): campaign id, version, store URL ..."""
        return self.write_json("campaign", data)

    def read_campaign(self) -> dict:
        """The campaign pointer template 04 wrote; :class:`RunFileMissing` naming template 04 when absent."""
        return self.read_json("campaign")

    def scores_path(self) -> Path:
        """:data:`SCORES_FILE` (for writing)."""
        return self.file("scores")

    def write_scores(self, scores) -> Path:
        """Template 03's scores -> :data:`SCORES_FILE` (Parquet); their distribution is appended to the
        workspace's score history (:meth:`history_root`, :func:`workbench.monitoring.record_run_scores`)."""
        path = self.file("scores")
        path.parent.mkdir(parents=True, exist_ok=True)
        scores.to_parquet(path, index=False)
        self.record_output("scores")
        from workbench.monitoring.history import record_run_scores

        record_run_scores(self, scores)
        return path

    def history_root(self) -> Path:
        """Where this run folder's scoring runs are recorded: the runs root of the workspace that holds the
        folder, else the folder's parent (run folders live in a runs root)."""
        from workbench.workspace import find_workspace

        ws = find_workspace(self.path)
        if ws is not None and ws.config_file is not None:
            return ws.runs
        return self.path.resolve().parent

    def read_scores(self):
        """Template 03's scores (a DataFrame); :class:`RunFileMissing` naming template 03 when absent."""
        from workbench.data.files import read_table

        path = self.file("scores")
        if not path.is_file():
            raise RunFileMissing(f"The scores file {str(path)!r} does not exist: run template 03_target_model with "
                                 f"this run_dir first (it writes {SCORES_FILE}).")
        frame = read_table(path, parameter="scores")
        self.record_input("scores")
        return frame

    def model_dir(self, *, read: bool = True) -> Path:
        """:data:`MODEL_DIR` (recorded as an input when ``read`` and it exists)."""
        path = self.file("model")
        if read and path.is_dir():
            self.record_input("model")
        return path

    def write_table(self, kind: str, frame) -> Path:
        """A DataFrame -> the file of ``kind`` (Parquet, or CSV in UTF-8 with a byte-order mark for Excel)."""
        path = self.file(kind)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".csv":
            frame.to_csv(path, index=False, encoding="utf-8-sig")
        else:
            frame.to_parquet(path, index=False)
        self.record_output(kind)
        return path

    def save_credit_model(self, model) -> Path:
        """A :class:`~workbench.credit.model.CreditModel` -> :data:`CREDIT_MODEL_DIR` (JSON, no pickle)."""
        folder = Path(model.save(self.file("credit_model")))
        self.record_output("credit_model")
        return folder

    def read_credit_grades(self, *, required: bool = False):
        """Template 07's credit grades (a DataFrame); ``None`` when template 07 did not run (unless ``required``)."""
        from workbench.data.files import read_table

        path = self.file("credit_grades")
        if not path.is_file():
            if required:
                raise RunFileMissing(f"The credit grades {str(path)!r} do not exist: run template 07_credit_grading "
                                     f"with this run_dir first (it writes {CREDIT_GRADES_FILE}).")
            return None
        frame = read_table(path, parameter="credit_grades")
        self.record_input("credit_grades")
        return frame

    def save_plan(self, plan) -> Path:
        """A :class:`~workbench.campaign.planning.CampaignPlan` -> :data:`PLAN_DIR` (read it back with
        ``CampaignPlan.load(folder.require("plan"))``)."""
        folder = plan.save(self.file("plan"))
        self.record_output("plan")
        return folder

    def save_simulation(self, record) -> Path:
        """A :class:`~workbench.tracking.loop.SimulationRecord` -> :data:`SIMULATION_DIR` (read back by
        :func:`workbench.tracking.loop.open_run`)."""
        folder = record.save(self.file("simulation"))
        self.record_output("simulation")
        return folder


    def save_wave(self, day, files: Mapping, funnel=None) -> Path:
        """A trigger wave's channel files (``{channel: DataFrame}``) and funnel -> ``triggers/<day>/`` (CSV)."""
        import pandas as pd

        folder = self.file("triggers") / pd.Timestamp(day).date().isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        for channel, frame in files.items():
            if "msisdn" in frame.columns:
                raise ParameterError.invalid(f"files[{channel!r}]", "masked numbers only (msisdn_masked)",
                                             "a column 'msisdn'")
            frame.to_csv(folder / f"{channel}.csv", index=False)
        if funnel is not None:
            funnel.to_csv(folder / "funnel.csv", index=False)
        self.record_output("triggers")
        return folder


    def save_waves(self, waves: Mapping) -> list[Path]:
        """Several waves' files: ``{day: (files, funnel)}`` -> ``triggers/<day>/`` each (see :meth:`save_wave`)."""
        return [self.save_wave(day, files, funnel) for day, (files, funnel) in waves.items()]

def append_score_history(root: str | os.PathLike, record: Mapping) -> Path:
    """Append one scoring run (a JSON-ready mapping) to :data:`SCORE_HISTORY_FILE` in ``root``; the line is
    written whole in one call, so a reader never sees half a record."""
    path = Path(root) / SCORE_HISTORY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(jsonable(dict(record)), ensure_ascii=False, allow_nan=False, sort_keys=True) + "\n"
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(line)
    return path


def read_score_history(root: str | os.PathLike) -> list[dict]:
    """The scoring runs recorded in ``root`` (oldest first; none when the file does not exist).

    Raises
    ------
    ParameterError
        A line is not JSON (the message names the file and the line number).
    """
    path = Path(root) / SCORE_HISTORY_FILE
    if not path.is_file():
        return []
    out = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise ParameterError(f"{str(path)!r} line {i} is not a JSON record of a scoring run: {exc.msg}; "
                                 "expected one JSON object per line as workbench writes them.") from None
    return out


def _writer_text(writer: str) -> str:
    return f"template {writer}" if writer[:2].isdigit() else f"the {writer!r} step (workbench demo)"


def _caller_parameters(name: str, namespace: Mapping) -> dict:
    """The values of template ``name``'s parameters in ``namespace`` (empty when it is no template)."""
    try:
        from workbench.templates import template_parameters

        declared = template_parameters(name)
    except (WorkbenchError, OSError):
        return {}
    return {key: namespace[key] for key in declared if key in namespace}


def resolve_run_dir(value: str | os.PathLike) -> Path:
    """A ``run_dir`` parameter as a path: a relative one against the workspace root, as templates resolve it
    (:meth:`workbench.workspace.Workspace.run_path`); against the working folder outside any workspace."""
    from workbench.workspace import find_workspace

    ws = find_workspace()
    return ws.run_path(value) if ws is not None else Path(value)


def next_run_dir(root: str | os.PathLike, prefix: str = "demo") -> Path:
    """A new folder ``<root>/<prefix>-<n>`` (the first ``n`` from 1 whose folder does not exist)."""
    root = Path(root)
    n = 1
    while (root / f"{prefix}-{n}").exists():
        n += 1
    return root / f"{prefix}-{n}"


# ----------------------------------------------------------------- campaigns of other runs
def other_campaigns(store, campaign_id: int, user=None):
    """The campaigns of ``store`` other than ``campaign_id`` (``campaign_id, name, status``), by id.

    Template 06 names them: they share the store but none of their contacts is counted in the
    evaluation of ``campaign_id``.
    """
    import pandas as pd

    from workbench.store import SYSTEM_USER

    seen = store.visible_campaigns(user or SYSTEM_USER)
    if not len(seen):
        return pd.DataFrame({"campaign_id": pd.Series(dtype="int64"), "name": pd.Series(dtype="str")})
    keep = [c for c in ("campaign_id", "name", "status") if c in seen.columns]
    out = seen.loc[seen["campaign_id"].astype("int64") != int(campaign_id), keep]
    return out.sort_values("campaign_id").reset_index(drop=True)


def other_campaigns_story(run, lang: str | None = None) -> tuple[str, dict]:
    """Narrative key and values naming the other campaigns in the store of a
    :class:`~workbench.tracking.loop.CampaignRun` (labels ``runs.others.*``)."""
    others = other_campaigns(run.store, run.campaign_id)
    if not len(others):
        return "runs.others.none", {"campaign": int(run.campaign_id)}
    names = "、".join if (lang or _language()) == "zh" else ", ".join
    text = names(f"#{int(c)} {n}" for c, n in zip(others["campaign_id"], others["name"]))
    return "runs.others.story", {"campaign": int(run.campaign_id), "count": int(len(others)), "campaigns": text}


def _language() -> str:
    from workbench.i18n import get_language

    return get_language()

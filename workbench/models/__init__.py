"""Target-user models: the look-alike estimator, baselines, explanations, rules,
the registry (save / load / score without pickle) and the generic path for any table.

Notebooks import from here only::

    from workbench.models import TargetModel, reason_codes, learn_rules, save_model, load_model, score

Threads: LightGBM's OpenMP threads spin while they wait.  On a shared server (a
JupyterLab for several analysts, Voila apps, Dask workers) that made a 2-thread
fit 10-20 times slower than a 1-thread one in our measurements; a passive wait
policy removes the penalty.  Importing this package therefore sets
``OMP_WAIT_POLICY=PASSIVE`` unless the variable is already set - it takes effect
when LightGBM is first imported, so import :mod:`workbench.models` before
``lightgbm`` (or set the variable yourself).
"""
import os as _os

_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
from workbench.models.baselines import LogisticBaseline, RulesBaseline
from workbench.models.estimator import TargetModel, resolve_params
from workbench.models.explain import (
    REASON_BANDS, contributions, global_importance, reason_codes, reason_distribution,
)
from workbench.models.generic import (
    LEAKAGE_AUC, GenericResult, PreparedData, encode_target, leakage_warnings, metrics_summary,
    prepare_training_data, render_notes, single_column_auc, train_generic,
)
from workbench.models.reason_words import Reason, say
from workbench.models.registry import (
    fingerprint, load_card, load_model, save_model, score, scored_schema, to_jsonable,
)
from workbench.models.rules import Condition, Rule, feature_label, learn_rules, rules_table
from workbench.models.schema import FeatureSpec, encode_frame, infer_features

__all__ = [
    "TargetModel", "resolve_params",
    "LogisticBaseline", "RulesBaseline",
    "REASON_BANDS", "contributions", "global_importance", "reason_codes", "reason_distribution",
    "Reason", "say",
    "Condition", "Rule", "feature_label", "learn_rules", "rules_table",
    "FeatureSpec", "encode_frame", "infer_features",
    "fingerprint", "load_card", "load_model", "save_model", "score", "scored_schema", "to_jsonable",
    "LEAKAGE_AUC", "GenericResult", "PreparedData", "encode_target", "leakage_warnings", "metrics_summary",
    "prepare_training_data", "render_notes", "single_column_auc", "train_generic",
]

# Modules of this subpackage written for other parts of the closed loop (the province's model
# sample, the content-preference model, uplift models, the province model's inputs and pipeline): their
# public names are re-exported here when the module exists, so notebooks import everything from workbench.models.
import importlib as _importlib

for _area in ("sample", "preference", "uplift", "province_inputs", "province"):
    try:
        _module = _importlib.import_module(f"workbench.models.{_area}")
    except ModuleNotFoundError as _exc:  # an area not built yet
        if _exc.name != f"workbench.models.{_area}":
            raise
        continue
    for _name in _module.__all__:
        _value = getattr(_module, _name)
        if _name in globals() and globals()[_name] is not _value:
            raise ImportError(f"workbench.models.{_area}.{_name} clashes with another public name of workbench.models")
        globals()[_name] = _value
    __all__ += [n for n in _module.__all__ if n not in __all__]

"""Target-user models: the look-alike estimator, baselines, explanations, rules,
the registry (save / load / score without pickle) and the generic path for any table.

Notebooks import from here only::

    from workbench.models import TargetModel, reason_codes, learn_rules, save_model, load_model, score
"""
from workbench.models.baselines import LogisticBaseline, RulesBaseline
from workbench.models.estimator import TargetModel, resolve_params
from workbench.models.explain import (
    REASON_BANDS, contributions, global_importance, reason_codes, reason_distribution,
)
from workbench.models.generic import (
    LEAKAGE_AUC, GenericResult, PreparedData, encode_target, leakage_warnings, metrics_summary,
    prepare_training_data, render_notes, single_column_auc, train_generic,
)
from workbench.models.registry import (
    fingerprint, load_card, load_model, save_model, score, scored_schema, to_jsonable,
)
from workbench.models.rules import Condition, Rule, feature_label, learn_rules, rules_table
from workbench.models.schema import FeatureSpec, encode_frame, infer_features

__all__ = [
    "TargetModel", "resolve_params",
    "LogisticBaseline", "RulesBaseline",
    "REASON_BANDS", "contributions", "global_importance", "reason_codes", "reason_distribution",
    "Condition", "Rule", "feature_label", "learn_rules", "rules_table",
    "FeatureSpec", "encode_frame", "infer_features",
    "fingerprint", "load_card", "load_model", "save_model", "score", "scored_schema", "to_jsonable",
    "LEAKAGE_AUC", "GenericResult", "PreparedData", "encode_target", "leakage_warnings", "metrics_summary",
    "prepare_training_data", "render_notes", "single_column_auc", "train_generic",
]

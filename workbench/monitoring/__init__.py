"""Model monitoring: reference distributions of a model's inputs and score, drift (PSI) against a new
table, decay with labels (AUC, top-decile lift, calibration, bad rate per grade), the province model
month by month and the score history of a workspace.  Compute only: returns numbers and frames;
nothing here draws or words them."""
from workbench.monitoring.drift import (
    ALERT,
    CATEGORICAL,
    EPSILON,
    FORMAT,
    MISSING,
    NUMERIC,
    OTHER,
    WATCH,
    bin_shares,
    build_reference,
    check_reference,
    check_table,
    check_thresholds,
    compare,
    psi,
    status_of,
)
from workbench.monitoring.history import record_run_scores, record_scores, score_history, score_summary
from workbench.monitoring.months import (
    ACTIONS,
    AUC_DROP,
    MIN_POSITIVES,
    MonthlyMonitoring,
    auc_se,
    default_train_month,
    monitor_months,
    monitored_model,
    recommend,
)
from workbench.monitoring.performance import (
    compare_grades,
    compare_performance,
    grade_reference,
    grades_from_score,
    training_performance,
    with_grades,
)
from workbench.monitoring.province import (
    PREFERENCE_PART,
    ProvinceInputs,
    is_province_model,
    preference_reference,
    province_decay,
    province_drift,
    province_inputs,
    province_reference,
    save_province_reference,
)

__all__ = ["FORMAT", "EPSILON", "WATCH", "ALERT", "NUMERIC", "CATEGORICAL", "OTHER", "MISSING",
           "build_reference", "bin_shares", "psi", "status_of", "check_thresholds", "compare",
           "check_reference", "check_table",
           "training_performance", "compare_performance", "grade_reference", "with_grades", "grades_from_score",
           "compare_grades",
           "score_summary", "record_scores", "record_run_scores", "score_history",
           "PREFERENCE_PART", "ProvinceInputs", "preference_reference", "province_reference",
           "save_province_reference", "province_inputs", "province_drift", "province_decay", "is_province_model",
           "ACTIONS", "AUC_DROP", "MIN_POSITIVES", "auc_se", "MonthlyMonitoring", "monitor_months", "recommend",
           "default_train_month", "monitored_model"]

"""Negative-credit grading of new subscribers (issue 17).

Generic models for any table (segmented trees / scorecard / monotone LightGBM,
grades A..E with cut-offs stored in the model folder, readable rules) and the
province's credit pipeline (features from bills, payments and status events, the
label, the OCS rules per grade, the promotion exclusion).  Compute only: it returns
data; words live in ``workbench.report``, figures in ``workbench.viz``.
"""

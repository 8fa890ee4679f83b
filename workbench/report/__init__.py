"""The presentation layer: what a template or an app says about computed results.

Compute modules (``status``, ``models``, ``campaign``, ``tracking``, ``metrics``) return data;
``viz`` draws it; ``report`` words it — stories (a catalogue key and its values), KPI cards,
display tables with readable labels and formatted numbers, and which figures a report shows.
One module per template (``t01`` ... ``t06``) plus the shared :mod:`~workbench.report.format`
(numbers as people read them) and :mod:`~workbench.report.names` (codes as names).

A template imports from one place: its ``workbench.report.tNN`` module and ``workbench.notebook``.
"""
from workbench.report.format import ci_text, count_text, number_text, pct_text, pp_text

__all__ = ["ci_text", "count_text", "number_text", "pct_text", "pp_text"]

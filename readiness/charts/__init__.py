"""Plotly figure builders from check results: reshaping only, no computation.

One module per area; each function takes a :class:`CheckResult` (or its metrics) and
returns a ``plotly.graph_objects.Figure``. Plotly is imported lazily by each module.
"""

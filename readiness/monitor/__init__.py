"""After sign-off: check production batches against the signed review (``readiness monitor``).

- :mod:`readiness.monitor.profile`: bins learned on the holdout, applied to batches;
- :mod:`readiness.monitor.reference`: the reference recorded in the review (``monitoring.reference``);
- :mod:`readiness.monitor.stats`: drift statistics, confidence-based performance estimation,
  and alert thresholds from same-size batches drawn from the reference;
- :mod:`readiness.monitor.run`: one batch against one signed review -> :class:`MonitorResult`;
- :mod:`readiness.monitor.commands`: the ``readiness monitor`` subcommand.
"""

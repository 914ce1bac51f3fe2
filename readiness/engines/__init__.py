"""Where the rows live: ``local`` (pandas; Arrow record batches for datasets larger than
memory), ``dask`` and ``spark``. Each engine applies one pandas function to every partition
of a Parquet dataset and hands back the small per-partition results, which merge exactly
on the driver (:mod:`readiness.engines.summaries`); it also draws the review's sample.
See docs/engines.md.
"""

from __future__ import annotations

from readiness.engines.base import ENGINES, Engine, get_engine
from readiness.engines.dataset import Dataset, is_dataset, open_dataset

__all__ = ["ENGINES", "Dataset", "Engine", "get_engine", "is_dataset", "open_dataset"]

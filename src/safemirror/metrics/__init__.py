"""Business metrics over the mirror: declared definitions, computation and suppression."""

from safemirror.metrics.compute import MetricResult, compute, compute_raw
from safemirror.metrics.periods import GRAINS, MetricQuery
from safemirror.metrics.registry import Metric, all_metrics, get_metric

__all__ = [
    "GRAINS",
    "Metric",
    "MetricQuery",
    "MetricResult",
    "all_metrics",
    "compute",
    "compute_raw",
    "get_metric",
]

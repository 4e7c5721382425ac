"""Datadog's evaluation, offline: log monitors over time, log-based metrics, index routing counts."""

from logmon.evaluation.monitors import AlertInterval, GroupResult, MonitorEvaluator, State
from logmon.evaluation.stream import Evaluation, Ingested, Intake

__all__ = [
    "AlertInterval",
    "Evaluation",
    "GroupResult",
    "Ingested",
    "Intake",
    "MonitorEvaluator",
    "State",
]

"""Datadog's log intake, offline: JSON preprocessing, our pipelines' processors, index routing."""

from logmon.emulator.engine import Emulator, IndexDecision
from logmon.emulator.preprocess import map_status, preprocess

__all__ = ["Emulator", "IndexDecision", "map_status", "preprocess"]

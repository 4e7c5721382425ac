"""Rules as YAML → a typed, located model. Pure Python: nothing here imports Pulumi."""

from logmon.rules.loader import RuleSet, apply_overrides, load_rules, parse_rules_text, rules_from_text

__all__ = ["RuleSet", "apply_overrides", "load_rules", "parse_rules_text", "rules_from_text"]

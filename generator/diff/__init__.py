"""What changed between two Engine API versions, classified as breaking for a client or not.

`diff_models(old, new)` compares two intermediate models and returns an `ApiDiff`, a sorted
tuple of `Change` records. `generator.diff.report` renders one as text, Markdown or JSON.
"""

from generator.diff.changes import ApiDiff, Change, Reach
from generator.diff.compare import diff_models, operation_sort_key
from generator.diff.rules import RULES, Rule

__all__ = ["ApiDiff", "Change", "Reach", "RULES", "Rule", "diff_models", "operation_sort_key"]

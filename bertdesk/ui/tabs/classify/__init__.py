"""The Classify tab: the [CLS] vector through a linear layer — fine-tuned heads, zero-shot labels, a few-shot head
trained here, batches of any size, and why a label was chosen."""

from bertdesk.ui.tabs.classify.tab import ClassifyTab

Tab = ClassifyTab

__all__ = ["ClassifyTab", "Tab"]

"""The Similarity tab: tokens as vectors, their cosine per layer, attention, masks, and learned positions."""

from bertdesk.ui.tabs.similarity.tab import SimilarityTab as Tab

__all__ = ["Tab"]

"""The public API of bertdesk.core.similarity: what the front ends import from it."""

from .attention import (
    Forward as Forward,
    PAIR_FILTERS as PAIR_FILTERS,
    attention_grid as attention_grid,
    attention_map as attention_map,
    attention_scores as attention_scores,
    grid_cell as grid_cell,
    run_forward as run_forward,
    softmax as softmax,
)
from .cosine import (
    cls_attention_by_layer as cls_attention_by_layer,
    cls_cosine_by_layer as cls_cosine_by_layer,
    contextual_neighbours as contextual_neighbours,
    cosine_by_layer as cosine_by_layer,
    cosine_matrix as cosine_matrix,
    layer_cosine as layer_cosine,
    most_similar_pairs as most_similar_pairs,
    nearest_rows as nearest_rows,
    order_by_similarity as order_by_similarity,
    sentence_similarity as sentence_similarity,
)
from .graph_weights import GraphWeights as GraphWeights, graph_weights as graph_weights
from .positions import positions_report as positions_report
from .projection import Projection2D as Projection2D, pca_2d as pca_2d
from .sentences import Sentence as Sentence, split_sentences as split_sentences

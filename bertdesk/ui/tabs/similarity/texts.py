"""The Similarity tab's captions and its "How does this work?" explanation."""

from __future__ import annotations

TOKENS_CAPTION = (
    "Each token is turned into a vector of <b>{width}</b> numbers: a point in a {width}-dimensional space. "
    "Layer 0 is the embedding (the token's own vector plus its position's and segment's); each of the {layers} "
    "layers rewrites every vector using the others. <b>Cosine similarity</b> compares two vectors by their "
    "direction: 1 = same direction, 0 = unrelated, −1 = opposite. Click a cell to follow that pair through the layers."
)
CURVE_CAPTION = (
    "The clicked pair's cosine after every layer. The same word in two contexts (\"bank\" of a river, \"bank\" "
    "raising rates) starts identical apart from its position and drifts apart: the vector depends on the context."
)
ATTENTION_CAPTION = (
    "Attention: each row is a token <b>looking</b>, each column a token <b>looked at</b>; a row's weights are "
    "probabilities that sum to 1. The layer's output vector of a token mixes the others' vectors in these "
    "proportions. Layer L produces hidden state L; each of the {heads} heads looks in its own way."
)
MASKS_CAPTION = (
    "Before the softmax each score is q·k/√d; the <b>mask is added</b> to it. BERT's mask is bidirectional: it "
    "hides padding only, so every token sees its left and its right. A <b>causal</b> mask (as in GPT) adds −∞ above "
    "the diagonal: e^−∞ = 0, so those weights come out exactly 0 and a token sees only its left. "
    "The model adds float32's most negative value, which acts as −∞."
)
POSITIONS_CAPTION = (
    "These vectors belong to <b>positions</b>, not to tokens: the model learned one vector per position "
    "({max_positions} of them) and adds vector i to the token at position i — so the first token of every input, "
    "[CLS], receives the same first position vector. Neighbouring positions get similar vectors."
)
SEGMENTS_CAPTION = (
    "Segment (token type) vectors tell segment A (type 0) from segment B (type 1) in pair mode: one vector is added "
    "to every token of A, the other to every token of B."
)
NO_SEGMENTS = "This model has no segment (token type) embeddings."
EXPLANATION = (
    "<b>Tokens as vectors.</b> The model looks up each token's vector ({width} numbers) in its embedding table, "
    "adds the learned vector of its position and of its segment, and passes the {seq} vectors through {layers} "
    "layers. Each layer lets every token gather information from the others (attention) and rewrites its vector. "
    "<b>Cosine similarity</b> is the cosine of the angle between two vectors: the dot product of the vectors "
    "divided by their lengths. <b>Attention</b>: a token's query vector is compared with every token's key vector "
    "(q·k/√d); the mask is added, and a softmax turns each row of scores into probabilities. BERT uses left and "
    "right context; a causal model sees only the left, because its mask adds −∞ to the scores of later tokens. "
    "<b>[CLS]</b> comes first in every input and gathers information from all other tokens: classifiers read its "
    "last vector. <b>[SEP]</b> ends a segment; many heads park their attention on it when nothing else fits."
)
SENTENCES_CAPTION = (
    "One vector per sentence: the token vectors of the last layer <b>pooled</b> into one — their mean, or the "
    "[CLS] vector. Sentence-embedding models are trained so that this vector's direction carries the meaning: "
    "sentences that say similar things get a cosine near 1. One sentence per line in the box above (a single line "
    "is split at each . ! ?)."
)
WORD_CAPTION = (
    "The same word in two contexts (\"bank\" of a river, \"bank\" raising rates) starts out almost identical — at "
    "layer 0 its vectors differ only by their positions — and each layer mixes in its context, so the two can drift "
    "apart. Two different words start far apart. The clearest proof that a token's vector depends on its context."
)


def word_reading(same: str, same_cosines: list[float], other: str, other_cosines: list[float]) -> str:
    """What this text's curves show, from their numbers: where the same word's two vectors start, where they are
    furthest apart and where they end, and where the different pair ends (cosines after each layer, embeddings
    first)."""
    if not same_cosines:
        return ""
    low = min(range(len(same_cosines)), key=same_cosines.__getitem__)
    start, end = same_cosines[0], same_cosines[-1]
    where = "at the embeddings" if low == 0 else f"after layer {low}"
    said = f"Here the two “{same}” start at cosine {start:.2f}"
    if low in (0, len(same_cosines) - 1):
        trend = "drift apart" if end < start else "come closer"
        said += f" and {trend} to {end:.2f} after the last layer"
    else:
        back = "come back together" if end > same_cosines[low] + 0.02 else "stay apart"
        said += f", are furthest apart {where} ({same_cosines[low]:.2f}), then {back}: {end:.2f} after the last layer"
    if other_cosines:
        said += f"; {other} end at {other_cosines[-1]:.2f}"
    return said + "."
CLS_CAPTION = (
    "<b>[CLS]</b> is the first token of every input. It carries no word of its own, so what its vector holds is "
    "gathered from the others through attention. First map: how close its vector comes to each token's after each "
    "layer (columns: emb = the embeddings, then layers 1…N). Second: how much it looks at each token in each layer "
    "(the mean over the heads; each column sums to 1). "
    "Classifiers read [CLS]'s last vector."
)
NEIGHBOURS_CAPTION = (
    "First: the vocabulary entries whose <b>input embeddings</b> (the table the model looks tokens up in) point "
    "the same way as this token's — what the model "
    "knows of the token before any context (spelling variants, plurals, related words). Second: the tokens of this "
    "input nearest to it <b>after the chosen layer</b>, once context has been mixed in."
)
PROJECTION_CAPTION = (
    "Each token's vector has hundreds of numbers; this picture keeps the two directions along which this input's "
    "vectors differ most (<b>principal component analysis</b>) and drops the rest, so distances are only roughly "
    "true. Tokens used alike end up close; move the layer to watch context pull them together or apart. "
    "Red points are [CLS] and [SEP]."
)
OVERVIEW_CAPTION = (
    "Every head of every layer at once: each thumbnail is one head's attention (rows look at columns, bright = "
    "much). Heads specialise: some look at the previous or next token (a diagonal band), some at [CLS] or [SEP] "
    "(a bright column), some spread out. Click a thumbnail to open that head in the Attention view."
)

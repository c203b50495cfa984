"""What the Ask tab says: the captions beside its views and the "How does this work?" explanation."""

from __future__ import annotations

QA_BANNER = (
    "<b>Extractive question answering</b> with {model}: the model points at the span of the context that answers "
    "the question; the answer is the text's own words, as long as the text's answer is. Best answer: strongest "
    "highlight."
)
RETRIEVAL_BANNER = (
    "<b>Sentence retrieval, not span QA.</b> {model} is an embedding model, not a question-answering one: the "
    "context's sentences are ranked by cosine similarity to the question and the best one is highlighted. For "
    "answer spans, choose a question-answering model in the Model list, get one (the button), or convert one: "
    "<code>python -m bertdesk convert path/to/squad-checkpoint models/my-qa</code>."
)
GET_MODEL_ELSEWHERE = "Get a question-answering model in the main window: Models → Manage models…"
NO_MODEL_BANNER = "Load a model to answer questions (a question-answering model points at the answer in the text)."
NEEDS_INPUT = "Type a question and paste (or load) the context it is about."

CURVES_CAPTION = (
    "For each context token, the probability that the answer <b>starts</b> there and that it <b>ends</b> there "
    "(each a softmax over one window). Dashed lines: a new window begins; windows overlap, so a shared token is "
    "plotted once per window. Shaded: the chosen answer, the span with the highest P(start) × P(end)."
)
WINDOWS_CAPTION = (
    "Windows of the context. The <b>null score</b> is P(start = [CLS]) × P(end = [CLS]): how strongly that window "
    "says “no answer here”. Click a window to see it."
)
LAYOUT_CAPTION = (
    "Window {window} of {total} as the model reads it: [CLS], the question (segment A, type id {a}), [SEP], this "
    "window's slice of the context — tokens {first}–{last} of {count} (segment B, type id {b}) — and [SEP]. "
    "Attention mask: 1 for its {real} tokens{padding}."
)
LAYOUT_PADDING = "; the {pads} [PAD] tokens that bring it to its batch's width of {width} have mask 0 (ignored)"
RETRIEVAL_WHY = (
    "Sentence retrieval has no start and end probabilities: each sentence and the question are embedded on their own "
    "and compared by cosine similarity. A question-answering model shows here where it thinks the answer starts and "
    "ends."
)

EXPLANATION = (
    "<b>How does extractive question answering work?</b> The question and the context go into the model "
    "<i>together</i>, as one input: <b>[CLS]</b> question <b>[SEP]</b> context <b>[SEP]</b>. Segment ids (type ids) "
    "tell them apart: 0 (segment A) for the question's tokens, 1 (segment B) for the context's. For every context "
    "token the model's QA head gives two numbers, softmaxed into probabilities: how likely the answer "
    "<b>starts</b> there, and how likely it <b>ends</b> there. The answer is the span with the highest "
    "P(start) × P(end), ending after it starts and at most “Longest answer” tokens long. So the model "
    "<i>points at</i> words already in the context: this is <b>extractive</b> QA, and it is what this app does — "
    "the answer is whatever the text says there, its length set by the text. <b>Abstractive</b> QA (a generative "
    "model such as T5 or GPT) would instead <i>write</i> an answer in new words, which need not appear in the text; "
    "a BERT model cannot. A context longer than one window (“Window tokens”) is cut into overlapping windows "
    "sharing “Overlap” tokens; each window is answered on its own and answers with the same text are merged, their "
    "scores added. <b>[CLS]</b> stands for “no answer”: with “Allow no answer” the lowest null score over the "
    "windows competes with the spans, as in SQuAD 2.0."
)

"""The plain-language explanations the Classify tab shows beside its results."""

from __future__ import annotations

FINE_TUNED = "fine-tuned"
ZERO_SHOT = "zero-shot"
FEW_SHOT = "few-shot"
#: The classifiers, in the order the tab offers them, with their button text.
METHODS = {FINE_TUNED: "Fine-tuned head", ZERO_SHOT: "Zero-shot labels", FEW_SHOT: "Few-shot head"}

SAMPLE_TEXT = "An honest, gripping and beautifully acted film: the best thing I have seen this year."
SAMPLE_LABELS = [
    ("movies", "films, actors, cinema"),
    ("sports", "matches, teams, players"),
    ("cooking", "recipes, food, kitchens"),
    ("politics", "governments, elections, parties"),
]
SAMPLE_EXAMPLES = [
    ("The striker scored a goal in the football match.", "sport"),
    ("The team won the tennis final in straight sets.", "sport"),
    ("Our runners broke the marathon record.", "sport"),
    ("Bake the bread in a hot oven for forty minutes.", "cooking"),
    ("Chop the onions and fry them gently in butter.", "cooking"),
    ("Season the soup with salt and black pepper.", "cooking"),
    ("The central bank raised interest rates again.", "finance"),
    ("Shares fell sharply on the stock market today.", "finance"),
    ("Investors bought government bonds and gold.", "finance"),
]

HOW_IT_WORKS = (
    "<b>How does a BERT classifier decide?</b> The model turns the input into one output vector per token. The "
    "first one, <b>[CLS]</b>, has been trained to summarise the whole input. A classifier head is a small "
    "<b>linear layer</b>: a weight matrix W with one row per label (labels × width) and a bias b. W times the "
    "[CLS] vector plus b gives one number per label, its <b>logit</b>. <b>Softmax</b> turns the logits into "
    "probabilities that add up to 1 (one label wins); a <b>multi-label</b> model applies a <b>sigmoid</b> to each "
    "logit on its own instead, so several labels can be likely at once. BERT's own heads put a 'pooler' layer "
    "(width × width, tanh) before the labels' layer."
    "<br><br><b>Zero-shot</b> needs no trained head: each label becomes a sentence from the template "
    "(\"This text is about {label}.\", plus its description), the embedding model turns the text and every "
    "label sentence into a vector, and the <b>cosine</b> between them scores the label. Dividing the cosines by "
    "a <b>temperature</b> and taking a softmax gives probabilities: a low temperature sharpens them, a high one "
    "flattens them; the ranking never changes. <i>Limits:</i> it only knows what the embedding model puts near "
    "each sentence — labels close in meaning, negation (\"not about sports\") and sentiment are weak spots, "
    "and the probabilities are a rescaling of similarities, not calibrated chances."
    "<br><br><b>Few-shot</b> trains the linear layer here: your examples are embedded (mean of the token vectors, "
    "or [CLS]), scaled to unit length, and a logistic regression (numpy, L-BFGS, L2 penalty) learns W and b. "
    "<b>k-fold cross-validation</b> trains k heads, each without one fold of the examples, and tests it on that "
    "fold: its accuracy and confusion matrix say how the head does on examples it has not seen. "
    "\"Save as model…\" writes the encoder and the layer as one ONNX graph, a model like any other."
    "<br><br><b>Why this label</b> masks each word in turn with [MASK] and runs every variant in one batch: the "
    "drop of the label's probability is the word's importance (green: the word supports the label, red: it "
    "works against it). It shows what the model reacts to, not a proof of how it reasons; words interact, and "
    "masking one at a time misses that."
)

ZERO_SHOT_NOTE = (
    "Each label becomes a sentence; the text's vector is compared with each sentence's by cosine. "
    "Lower temperature: sharper probabilities, same ranking. Works best with distinct topics; weak on "
    "negation, sentiment and labels close in meaning."
)
FEW_SHOT_NOTE = (
    "A few examples per label (text, label). Train embeds them and fits a linear layer (logistic regression); "
    "k-fold accuracy is measured on examples each fold's head did not see."
)
BATCH_NOTE = (
    "One text per line (blank lines skipped), or a TXT/CSV file (a CSV's text column is found by its header: "
    "text, sentence, content…). Rows stream through the model in length-sorted batches; the table fills as "
    "they arrive. Click a column header to sort."
)
WHY_NOTE = (
    "Each word masked ([MASK]), all variants in one run: "
    "<span style=\"background-color:{pos}\">&nbsp;green&nbsp;</span> raises <b>{label}</b>, "
    "<span style=\"background-color:{neg}\">&nbsp;red&nbsp;</span> lowers it."
)

"""Extractive question answering (the pipeline's answers, batched windows) and sentence retrieval without a QA model."""

from bertdesk.core.qa.answer import (
    QAOptions,
    answer_question,
    answer_questions,
    iter_answer_question,
    iter_answer_questions,
)
from bertdesk.core.qa.answer_types import Answer, QAResult, WindowDetail
from bertdesk.core.qa.sentence_ranking import (
    RetrievalResult,
    Sentence,
    SentenceHit,
    retrieve_sentences,
    split_sentences,
)

__all__ = [
    "Answer",
    "QAOptions",
    "QAResult",
    "RetrievalResult",
    "Sentence",
    "SentenceHit",
    "WindowDetail",
    "answer_question",
    "answer_questions",
    "iter_answer_question",
    "iter_answer_questions",
    "retrieve_sentences",
    "split_sentences",
]

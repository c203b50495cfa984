"""The public API of bertdesk.core.qa: what the front ends import from it."""

from .answer import (
    answer_question as answer_question,
    answer_questions as answer_questions,
    iter_answer_question as iter_answer_question,
    iter_answer_questions as iter_answer_questions,
)
from .answer_types import Answer as Answer, QAResult as QAResult, WindowDetail as WindowDetail
from .mode import QAMode as QAMode, qa_mode as qa_mode
from .options import QAOptions as QAOptions
from .sentence_ranking import (
    RetrievalResult as RetrievalResult,
    Sentence as Sentence,
    SentenceHit as SentenceHit,
    retrieve_sentences as retrieve_sentences,
    split_sentences as split_sentences,
)

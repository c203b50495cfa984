"""The public API of bertdesk.core.qa: what the front ends import from it."""

from .answer import (
    answer_question as answer_question,
    answer_questions as answer_questions,
    iter_answer_question as iter_answer_question,
    iter_answer_questions as iter_answer_questions,
)
from .answer_reports import qa_batch_command as qa_batch_command, qa_command as qa_command
from .answer_types import Answer as Answer, QAResult as QAResult, WindowDetail as WindowDetail
from .layout import (
    CharToToken as CharToToken,
    CurveView as CurveView,
    batch_widths as batch_widths,
    curve_view as curve_view,
    window_tokenization as window_tokenization,
    windows_around as windows_around,
    windows_holding as windows_holding,
)
from .mode import QAMode as QAMode, qa_mode as qa_mode
from .options import QAOptions as QAOptions
from .sentence_ranking import (
    RetrievalResult as RetrievalResult,
    Sentence as Sentence,
    SentenceHit as SentenceHit,
    retrieve_sentences as retrieve_sentences,
    split_sentences as split_sentences,
)

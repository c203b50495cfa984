"""The public API of bertdesk.core.classify: what the front ends import from it."""

from .batch import (
    classify_stream as classify_stream,
    count_rows as count_rows,
    count_text_rows as count_text_rows,
    read_rows as read_rows,
    rows_from_text as rows_from_text,
)
from .few_shot import (
    FewShotHead as FewShotHead,
    FewShotScorer as FewShotScorer,
    export_head as export_head,
    read_examples as read_examples,
    train_head as train_head,
)
from .heads import HeadClassifier as HeadClassifier
from .label_reports import (
    classify_command as classify_command,
    classify_file_command as classify_file_command,
    split_labels as split_labels,
    train_head_command as train_head_command,
)
from .occlusion import Explanation as Explanation, WordImportance as WordImportance
from .scoring import (
    NONE as NONE,
    SIGMOID as SIGMOID,
    SOFTMAX as SOFTMAX,
    ZERO_SHOT as ZERO_SHOT,
    Classification as Classification,
    Scorer as Scorer,
)
from .single import OneText as OneText, classify_one as classify_one
from .zero_shot import (
    DEFAULT_TEMPERATURE as DEFAULT_TEMPERATURE,
    DEFAULT_TEMPLATE as DEFAULT_TEMPLATE,
    ZeroShotClassifier as ZeroShotClassifier,
)

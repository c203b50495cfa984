"""The Ask tab's settings: top-k, the window size and overlap, the longest answer, and the no-answer option, in a
compact box that folds away."""

from __future__ import annotations

from dataclasses import dataclass, replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QGridLayout,
    QLabel,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from bertdesk.core.qa import QAOptions

#: The tab's options before the user changes them: the pipeline's, with three answers listed and 0 in the
#: threshold box.
DEFAULT_OPTIONS = QAOptions(top_k=3, null_threshold=0.0)


@dataclass(frozen=True)
class AskSettings:
    """What the user set: `options` holds every value the boxes show (the threshold too), `allow_null` whether
    “no answer” competes; `qa_options()` is what runs."""

    options: QAOptions = DEFAULT_OPTIONS
    allow_null: bool = False

    def qa_options(self) -> QAOptions:
        """The options for `answer_question` / `iter_answer_question`: without the threshold while “no answer” is
        off."""
        return self.options if self.allow_null else replace(self.options, null_threshold=None)

    def to_dict(self) -> dict:
        """JSON-ready: the values shown and `allow_null`."""
        return {**{name: getattr(self.options, name) for name in SHOWN}, "allow_null": self.allow_null}

    @classmethod
    def from_dict(cls, data: object) -> AskSettings:
        """Settings from saved data; missing or malformed values keep their defaults."""
        if not isinstance(data, dict):
            return cls()
        shown = {name: data[name] for name in SHOWN if name in data}
        return cls(QAOptions.from_user(shown, DEFAULT_OPTIONS), data.get("allow_null") is True)


#: (field, label, minimum, maximum, tooltip) of each whole-number setting.
_SPINS = (
    ("top_k", "Answers (top-k)", 1, 20, "How many answers to list, best first."),
    (
        "max_seq_len", "Window tokens", 32, 512,
        "max_seq_len: the tokens of one model input ([CLS] question [SEP] slice [SEP]); a longer context is cut "
        "into several windows. Capped at the model's positions.",
    ),
    (
        "doc_stride", "Overlap (stride)", 0, 256,
        "doc_stride: how many context tokens consecutive windows share, so an answer cut by a window's edge is "
        "whole in the next one.",
    ),
    ("max_answer_len", "Longest answer", 1, 100, "max_answer_len: the most tokens an answer span may have."),
)
#: The options the boxes show, as saved: the spins' and the no-answer threshold.
SHOWN = (*(spin[0] for spin in _SPINS), "null_threshold")


class SettingsBox(QWidget):
    """A "Settings" button (`toggle`, placed by the tab) that unfolds the settings in one row; `changed` is emitted on
    every edit."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.toggle = QToolButton(self)
        self.toggle.setText("Settings")
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.toggle.setCheckable(True)
        self.toggle.setAutoRaise(True)
        self.toggle.setToolTip("Show or hide the answering settings: answers, windows, answer length, no answer.")
        self.body = QWidget(self)
        grid = QGridLayout(self.body)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(2)
        self.spins: dict[str, QSpinBox] = {}
        for i, (name, label, low, high, tip) in enumerate(_SPINS):
            spin = QSpinBox(self.body)
            spin.setRange(low, high)
            spin.setValue(getattr(DEFAULT_OPTIONS, name))
            spin.setToolTip(tip)
            spin.setKeyboardTracking(False)
            text = QLabel(label, self.body)
            text.setBuddy(spin)
            text.setToolTip(tip)
            grid.addWidget(text, 0, i * 2)
            grid.addWidget(spin, 0, i * 2 + 1)
            spin.valueChanged.connect(self.changed)
            self.spins[name] = spin
        self.null_check = QCheckBox("Allow “no answer”", self.body)
        self.null_check.setToolTip(
            "As in SQuAD 2.0: [CLS] stands for “the context does not answer this”. Its score (the lowest null score "
            "over the windows) competes with the spans, lowered by the threshold."
        )
        self.threshold = QDoubleSpinBox(self.body)
        self.threshold.setRange(-1.0, 1.0)
        self.threshold.setSingleStep(0.05)
        self.threshold.setDecimals(2)
        self.threshold.setKeyboardTracking(False)
        self.threshold.setToolTip(
            "Null threshold: “no answer” ranks as if its score were lower by this much (0: where the "
            "transformers pipeline puts it)."
        )
        self.threshold.setEnabled(False)
        threshold_label = QLabel("threshold", self.body)
        threshold_label.setBuddy(self.threshold)
        column = len(_SPINS) * 2
        grid.addWidget(self.null_check, 0, column)
        grid.addWidget(threshold_label, 0, column + 1)
        grid.addWidget(self.threshold, 0, column + 2)
        grid.setColumnStretch(column + 3, 1)
        self.null_check.toggled.connect(self.threshold.setEnabled)
        self.null_check.toggled.connect(self.changed)
        self.threshold.valueChanged.connect(self.changed)
        self.toggle.toggled.connect(self._toggled)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.body)
        self.hide()

    def _toggled(self, on: bool) -> None:
        self.setVisible(on)
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)

    def settings(self) -> AskSettings:
        """The settings as set now."""
        values = {name: spin.value() for name, spin in self.spins.items()}
        options = QAOptions.from_user({**values, "null_threshold": self.threshold.value()})
        return AskSettings(options, self.null_check.isChecked())

    def set_settings(self, settings: AskSettings) -> None:
        """Show `settings` (emits `changed` once)."""
        self.blockSignals(True)
        for name, spin in self.spins.items():
            spin.setValue(getattr(settings.options, name))
        self.null_check.setChecked(settings.allow_null)
        self.threshold.setValue(settings.options.null_threshold or 0.0)
        self.blockSignals(False)
        self.changed.emit()

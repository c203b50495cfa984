"""Why this label: the input with each word coloured by its occlusion importance (green supports the label, red
works against it), the strongest words listed, hover for the numbers."""

from __future__ import annotations

from html import escape

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QTextBrowser, QVBoxLayout, QWidget

from bertdesk.core.classify import Explanation, WordImportance
from bertdesk.ui.tabs.classify.texts import WHY_NOTE
from bertdesk.ui.widgets import wrapped_label

SUPPORT = QColor("#1a9850")
AGAINST = QColor("#d73027")


def blend(color: QColor, base: QColor, share: float) -> str:
    """`color` laid over `base` at opacity `share` (0..1), as #rrggbb (Qt's rich text has no alpha)."""
    share = min(max(share, 0.0), 1.0)
    mixed = [round(b + (c - b) * share) for c, b in zip(color.getRgb()[:3], base.getRgb()[:3], strict=True)]
    return QColor(*mixed).name()


def word_colors(explanation: Explanation, base: QColor) -> list[tuple[WordImportance, str]]:
    """Each word with its background: its importance over the largest |importance| sets the opacity."""
    scale = max((abs(w.importance) for w in explanation.words), default=0.0) or 1.0
    return [
        (word, blend(SUPPORT if word.importance >= 0 else AGAINST, base, 0.85 * abs(word.importance) / scale))
        for word in explanation.words
    ]


def coloured_html(explanation: Explanation, base: QColor) -> str:
    """The text (and pair) with every scored word in a coloured span, the gaps between them as they are."""
    colours = word_colors(explanation, base)
    parts = []
    for segment, source in enumerate((explanation.text, explanation.pair)):
        if source is None:
            continue
        if segment:
            parts.append("<br><b>B:</b> ")
        position = 0
        for word, colour in colours:
            if word.segment != segment or word.start < position:
                continue
            tip = (f"{word.word}: {word.importance:+.3f} (the label's probability is "
                   f"{word.masked_probability:.1%} with it masked)")
            parts.append(escape(source[position:word.start]))
            parts.append(f'<span style="background-color:{colour};" title="{escape(tip)}">'
                         f"{escape(word.word)}</span>")
            position = word.end
        parts.append(escape(source[position:]))
    return "".join(parts).replace("\n", "<br>")


class WhyView(QWidget):
    """The explanation: a note, the coloured text, and the strongest words in plain numbers."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.note = wrapped_label(self, rich=True)
        self.text = QTextBrowser(self)
        self.text.setObjectName("classify-why")
        self.text.setOpenLinks(False)
        self.text.setMinimumHeight(48)
        self.summary = wrapped_label(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.note)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.summary)
        self._colours: list[tuple[WordImportance, str]] = []
        self.clear()

    def clear(self, message: str = "Why this label: the words the model reacts to appear here.") -> None:
        """Show `message` instead of an explanation."""
        self._colours = []
        self.note.setText("")
        self.text.setPlainText(message)
        self.summary.setText("")

    def set_explanation(self, explanation: Explanation) -> None:
        """Colour the words of `explanation`."""
        base = self.text.palette().color(QPalette.ColorRole.Base)
        self._colours = word_colors(explanation, base)
        self.note.setText(WHY_NOTE.format(pos=blend(SUPPORT, base, 0.6), neg=blend(AGAINST, base, 0.6),
                                          label=escape(explanation.label)))
        self.text.setHtml(coloured_html(explanation, base))
        ranked = sorted(explanation.words, key=lambda w: -abs(w.importance))[:3]
        strongest = ", ".join(f"{escape(w.word)} {w.importance:+.4f}" for w in ranked)
        cut = " The text was cut at the model's length; later words were not seen." if explanation.truncated else ""
        self.summary.setText(f"{explanation.label} at {explanation.probability:.1%}. Strongest: {strongest}.{cut}")

    def colours(self) -> list[tuple[str, float, str]]:
        """(word, importance, background colour) of every coloured word."""
        return [(word.word, word.importance, colour) for word, colour in self._colours]

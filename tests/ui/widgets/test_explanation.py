"""The folded "How does this work?" explanation the tabs share: the button unfolds and folds it, the arrow says
which, the text is wrapped rich text, and a bounded one scrolls."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QScrollArea, QSizePolicy, QVBoxLayout, QWidget

from bertdesk.ui.widgets.explanation import Explanation

TEXT = "<p><b>Pieces</b> are " + "words cut into the vocabulary's parts, " * 30 + "</p>"


def shown(qtbot, explanation: Explanation) -> QWidget:
    """`explanation` in a shown window of its own."""
    window = QWidget()
    qtbot.addWidget(window)
    QVBoxLayout(window).addWidget(explanation)
    window.resize(500, 400)
    window.show()
    qtbot.waitExposed(window)
    return window


def test_the_button_unfolds_and_folds_the_text_and_flips_its_arrow(qtbot) -> None:
    explanation = Explanation("How does this work?", TEXT)
    window = shown(qtbot, explanation)
    button = explanation.button
    assert button.text() == "How does this work?"
    assert button.isCheckable() and button.autoRaise()
    assert button.toolButtonStyle() == Qt.ToolButtonStyle.ToolButtonTextBesideIcon
    assert not explanation.label.isVisible()
    assert button.arrowType() == Qt.ArrowType.RightArrow

    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert button.isChecked()
    assert explanation.label.isVisible()
    assert button.arrowType() == Qt.ArrowType.DownArrow

    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert not explanation.label.isVisible()
    assert button.arrowType() == Qt.ArrowType.RightArrow
    assert window.isVisible()


def test_the_text_is_rich_and_wraps_to_the_width(qtbot) -> None:
    explanation = Explanation("How?", TEXT, tooltip="Show or hide how it works.")
    label = explanation.label
    assert explanation.button.toolTip() == "Show or hide how it works."
    assert label.textFormat() == Qt.TextFormat.RichText and label.wordWrap()
    assert label.heightForWidth(200) > 2 * label.heightForWidth(1000)
    explanation.set_text("<i>new</i>")
    assert label.text() == "<i>new</i>"
    assert label.sizePolicy().horizontalPolicy() == QSizePolicy.Policy.Preferred
    wide = Explanation("How?", TEXT, ignore_width=True)
    assert wide.label.sizePolicy().horizontalPolicy() == QSizePolicy.Policy.Ignored
    assert wide.area is None


def test_a_bounded_explanation_scrolls_within_its_height(qtbot) -> None:
    explanation = Explanation("How?", TEXT * 4, max_height=120)
    window = shown(qtbot, explanation)
    window.resize(300, 700)
    area = explanation.area
    assert isinstance(area, QScrollArea) and area.widget() is explanation.label
    assert not area.isVisible()
    explanation.button.setChecked(True)
    qtbot.waitUntil(lambda: area.isVisible() and area.verticalScrollBar().maximum() > 0)
    assert area.height() <= 120
    assert area.horizontalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAlwaysOff
    explanation.button.setChecked(False)
    assert not area.isVisible()


def test_a_given_label_is_the_one_unfolded(qtbot) -> None:
    own = QLabel("<b>mine</b>")
    explanation = Explanation("How?", label=own)
    window = shown(qtbot, explanation)
    assert explanation.label is own and own.text() == "<b>mine</b>"
    explanation.button.setChecked(True)
    assert own.isVisible() and own.parent() is explanation and explanation.parent() is window

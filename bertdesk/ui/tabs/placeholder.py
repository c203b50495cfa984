"""Tabs not built yet: one line saying what each will do, and no pretence of working."""

from __future__ import annotations

from typing import ClassVar

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from bertdesk.ui.tabs.base import AnalysisTab
from bertdesk.ui.tabs.registry import TabSpec


class PlaceholderTab(AnalysisTab):
    """A tab that only says what it will do; pasted or dropped text is declined with a status message."""

    plan: ClassVar[str]

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        label = QLabel(f"<p><b>{self.title}</b> is not built yet.</p><p>{self.plan}</p>")
        label.setWordWrap(True)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.addWidget(label)

    def set_input_text(self, text: str, into: QWidget | None = None) -> bool:
        """Decline the text: this tab cannot analyse anything yet."""
        self.status_message.emit(f"The {self.title} tab is not built yet; the text was not used.")
        return False

    def run_analysis(self) -> None:
        """Nothing to run."""

    def run_unfit(self) -> None:
        """Nothing to run, and nothing to say about the model either."""


def placeholder_class(spec: TabSpec) -> type[PlaceholderTab]:
    """A placeholder tab class for a tab whose package does not exist yet."""
    name = f"{spec.title.replace(' ', '')}Placeholder"
    return type(name, (PlaceholderTab,), {"key": spec.key, "title": spec.title, "plan": spec.plan})

"""The Tokens tab's comparison with a second model: the job that tokenizes with both, and the choice of the model
compared with (kept across restarts, also while that model is not installed yet)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QComboBox, QWidget

from bertdesk.core.errors import BertdeskError
from bertdesk.core.jobs import JobHandle
from bertdesk.core.tokens import Tokenization, TokenLocator, normalization_note, tokenize, word_count
from bertdesk.ui.error_text import error_text
from bertdesk.ui.models import bundle_line, open_model

if TYPE_CHECKING:
    from bertdesk.core.bundles import Bundle, BundleInfo

NO_COMPARE = "No comparison"
COMPARE_TOOLTIP = (
    "Split the same text with another installed model, side by side: different vocabularies split words differently."
)


@dataclass(frozen=True)
class TokensResult:
    """What one tokenization job returns: the main tokenization and the comparison (or why it failed)."""

    bundle: Bundle
    tokenization: Tokenization
    locator: TokenLocator
    words: int
    normalization: str
    compare_name: str = ""
    compare: Tokenization | None = None
    compare_locator: TokenLocator | None = None
    compare_error: str = ""
    compare_words: int = 0
    compare_normalization: str = ""


def tokenize_both(
    handle: JobHandle, bundle: Bundle, text: str, pair: str | None, compare_path: str | None
) -> TokensResult:
    """Tokenize with the tab's model and, if asked, with the comparison model (`open_model` keeps it loaded)."""
    main_handle = handle if compare_path is None else handle.sub(0.0, 0.5)
    main = tokenize(bundle.tokenizer, text, pair, max_length=bundle.info.max_positions, handle=main_handle)
    locator = TokenLocator(main)
    shown = (word_count(main), normalization_note(bundle.tokenizer, main))
    if compare_path is None:
        return TokensResult(bundle, main, locator, *shown)
    handle.check()
    try:
        handle.progress(0.5, "loading the model to compare with")
        other = open_model(compare_path)
        handle.check()
        compare = tokenize(
            other.tokenizer, text, pair, max_length=other.info.max_positions, handle=handle.sub(0.5, 1.0)
        )
    except BertdeskError as exc:
        return TokensResult(bundle, main, locator, *shown, compare_error=error_text(exc))
    return TokensResult(
        bundle,
        main,
        locator,
        *shown,
        compare_name=other.info.name,
        compare=compare,
        compare_locator=TokenLocator(compare),
        compare_words=word_count(compare),
        compare_normalization=normalization_note(other.tokenizer, compare),
    )


class CompareChoice(QObject):
    """The "Compare with" list: every installed model but the tab's own, and "No comparison".

    `changed` is emitted when the model compared with changes, by the user or because a restored choice got
    installed; a refill that keeps the choice emits nothing.
    """

    changed = Signal()

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.combo = QComboBox(parent)
        self.combo.addItem(NO_COMPARE, None)
        self.combo.setToolTip(COMPARE_TOOLTIP)
        self.combo.setEnabled(False)
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self._infos: list[BundleInfo] = []
        self._own: str | None = None  # the tab's model, never offered
        self._pending: str | None = None  # a restored comparison not installed (yet)
        self.combo.currentIndexChanged.connect(self._chosen)

    def path(self) -> str | None:
        """The folder of the model compared with, if any."""
        return self.combo.currentData()

    def name(self) -> str | None:
        """The model compared with (or waiting to be installed), if any."""
        if self.combo.currentData() is not None:
            return self.combo.currentText()
        return self._pending

    def set_models(self, infos: list[BundleInfo] | None, own: str | None) -> None:
        """Offer `infos` (None: the models offered so far) but the tab's own model `own`."""
        if infos is not None:
            self._infos = list(infos)
        self._own = own
        self.fill()

    def restore(self, name: str | None) -> None:
        """Choose the model `name` (None: no comparison); one not installed yet is chosen once it is."""
        if name is None:
            self.combo.setCurrentIndex(0)
        elif name:
            self._pending = name
            self.fill()

    def fill(self) -> None:
        """List the models but the tab's own, keeping the choice (or the one being restored)."""
        wanted = self._pending or self.name()
        self.combo.blockSignals(True)
        previous = self.combo.currentData()
        self.combo.clear()
        self.combo.addItem(NO_COMPARE, None)
        for info in self._infos:
            if info.path != self._own:
                self.combo.addItem(info.name, info.path)
                self.combo.setItemData(self.combo.count() - 1, bundle_line(info), Qt.ItemDataRole.ToolTipRole)
        index = self.combo.findText(wanted) if wanted else 0
        if index > 0:
            self._pending = None
        self.combo.setCurrentIndex(max(index, 0))
        others = self.combo.count() > 1
        self.combo.setEnabled(others)
        missing = "" if others else " Install another model to compare with."
        self.combo.setToolTip(COMPARE_TOOLTIP + missing)
        self.combo.blockSignals(False)
        if self.combo.currentData() != previous:
            self.changed.emit()

    def _chosen(self) -> None:
        """The user chose another model to compare with (or none)."""
        self._pending = None
        self.changed.emit()

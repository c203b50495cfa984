"""Every token of a tokenization as a table row, with an Export… button writing CSV or JSON."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QFont, QGuiApplication, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from bertdesk.core.tokens import Token, Tokenization

#: (header, header tooltip) of each column.
COLUMNS = (
    ("index", "Place in the full sequence, truncated tokens included."),
    ("piece", "The vocabulary piece; '##' marks a piece continuing a word."),
    ("id", "The piece's id in the vocabulary: the row of the token embedding matrix."),
    ("start", "First character of the piece in its segment (none for inserted special tokens)."),
    ("end", "One past the last character of the piece in its segment."),
    ("type id", "Segment A (0) or B (1): selects the token-type (segment) embedding."),
    ("position", "Position id: selects the learned position embedding. Truncated tokens have none."),
    ("attention mask", "1 = a real token the model attends to, 0 = padding."),
    ("notes", "Special token, unknown piece, word continuation, truncated."),
)

Index = QModelIndex | QPersistentModelIndex


def token_notes(token: Token) -> str:
    """Short flags of a token for the notes column."""
    notes = []
    if token.special:
        notes.append("special")
    if token.unknown:
        notes.append("unknown")
    if token.continuation:
        notes.append("continues word")
    if token.truncated:
        notes.append("truncated — never seen by the model")
    return ", ".join(notes)


class TokenTableModel(QAbstractTableModel):
    """A read-only table of `Tokenization.tokens`; truncated rows are greyed and struck out."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._tokens: list[Token] = []

    def set_tokenization(self, tokenization: Tokenization | None) -> None:
        """Show the tokens of `tokenization` (None: empty)."""
        self.beginResetModel()
        self._tokens = tokenization.tokens if tokenization is not None else []
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008 (Qt override)
        return 0 if parent.isValid() else len(self._tokens)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008 (Qt override)
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(  # noqa: N802 (Qt override)
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(COLUMNS):
            if role == Qt.ItemDataRole.DisplayRole:
                return COLUMNS[section][0]
            if role == Qt.ItemDataRole.ToolTipRole:
                return COLUMNS[section][1]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        token = self._tokens[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(token, column)
        if role == Qt.ItemDataRole.TextAlignmentRole and column not in (1, 8):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and token.truncated:
            return QGuiApplication.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
        if role == Qt.ItemDataRole.FontRole and token.truncated and column == 1:
            font = QFont()
            font.setStrikeOut(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole and token.truncated:
            return "Truncated: beyond the model's maximum length, the model never sees this token."
        return None

    @staticmethod
    def _display(token: Token, column: int) -> str:
        no_chars = token.segment is None
        values = (
            token.index,
            token.piece,
            token.id,
            "—" if no_chars else token.start,
            "—" if no_chars else token.end,
            token.type_id,
            "—" if token.truncated else token.position,
            token.attention_mask,
            token_notes(token),
        )
        return str(values[column])


class TokenTable(QWidget):
    """The token table, a caption and an Export… button; `current_changed(index)` follows the selection."""

    current_changed = Signal(int)
    exported = Signal(str)  # the path written

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._tokenization: Tokenization | None = None
        self._model_name: str | None = None
        self.model = TokenTableModel(self)
        self.view = QTableView(self)
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setDefaultSectionSize(self.view.fontMetrics().height() + 6)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self.view.setToolTip("Every token, truncated ones included (greyed). Select a row to find its piece.")
        self.view.selectionModel().currentRowChanged.connect(
            lambda current, _: self.current_changed.emit(current.row())
        )

        self.caption = QLabel(self)
        self.export_button = QPushButton("Export…", self)
        self.export_button.setToolTip(
            "Save every token with its id, offsets, type id, position and mask as CSV or JSON."
        )
        self.export_button.clicked.connect(self.export)
        self.export_button.setEnabled(False)

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.caption, 1)
        top.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)

    def set_tokenization(self, tokenization: Tokenization | None, model_name: str | None = None) -> None:
        """Show `tokenization`; `model_name` goes into JSON exports."""
        self._tokenization = tokenization
        self._model_name = model_name
        self.model.set_tokenization(tokenization)
        self.export_button.setEnabled(tokenization is not None)
        if tokenization is None:
            self.caption.setText("")
        else:
            self.caption.setText(f"{tokenization.num_tokens:,} tokens")
            self._fit_columns()

    def select(self, index: int) -> None:
        """Make token `index`'s row current and scroll to it (no `current_changed` echo)."""
        if not 0 <= index < self.model.rowCount():
            return
        self.view.selectionModel().blockSignals(True)
        self.view.selectRow(index)
        self.view.selectionModel().blockSignals(False)
        self.view.scrollTo(self.model.index(index, 0))

    def export_to(self, path: str | Path) -> None:
        """Write the tokens to `path`: JSON for a .json suffix, CSV otherwise."""
        if self._tokenization is None:
            return
        from bertdesk.core.tokens import write_tokens

        write_tokens(self._tokenization, path, self._model_name)
        self.exported.emit(str(path))

    def export(self) -> None:
        """Ask for a file name and export to it; a failure to write is shown in a message box."""
        if self._tokenization is None:
            return
        path, chosen = QFileDialog.getSaveFileName(
            self,
            "Export tokens",
            "tokens.csv",
            "CSV, one row per token (*.csv);;JSON, as the CLI prints it (*.json)",
        )
        if not path:
            return
        if not Path(path).suffix:
            path += ".json" if "json" in chosen.lower() else ".csv"
        try:
            self.export_to(path)
        except OSError as exc:
            QMessageBox.warning(self, "Export tokens", f"Could not write {path}: {exc.strerror or exc}")

    def _fit_columns(self) -> None:
        metrics = self.view.fontMetrics()
        for column, (name, _) in enumerate(COLUMNS[:-1]):
            self.view.setColumnWidth(
                column, max(metrics.horizontalAdvance(name), metrics.horizontalAdvance("000000")) + 18
            )
        self.view.setColumnWidth(
            1, max(self.view.columnWidth(1), metrics.horizontalAdvance("##piecepiece") + 18)
        )

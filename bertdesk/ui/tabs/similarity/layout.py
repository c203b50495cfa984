"""Layout helpers that let the Similarity views fit a small window: controls that wrap onto more rows, plot pairs
that stack when the view is narrow, plots whose minimum size does not depend on their placeholder's length."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLayout,
    QLayoutItem,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
    QWidgetItem,
)

EXPANDING = (QSizePolicy.Policy.Expanding, QSizePolicy.Policy.MinimumExpanding)
#: The smallest a plot (heatmap, curves, scatter) may be squeezed to.
PLOT_MINIMUM = QSize(200, 120)


class FlowLayout(QLayout):
    """Items left to right at their preferred widths, wrapping onto a new row when the width runs out; items that
    are horizontally Expanding share a row's spare width, and an item wider than the row is shrunk to fit it."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 12) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._spacing = spacing
        self.setContentsMargins(0, 0, 0, 0)

    def addItem(self, item: QLayoutItem) -> None:  # noqa: N802 (Qt's name)
        """Append `item`."""
        self._items.append(item)

    def count(self) -> int:
        """How many items."""
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:  # noqa: N802 (Qt's name)
        """The item at `index`, or None."""
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:  # noqa: N802 (Qt's name)
        """Remove and return the item at `index`."""
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:  # noqa: N802 (Qt's name)
        """Only horizontally."""
        return Qt.Orientation.Horizontal

    def hasHeightForWidth(self) -> bool:  # noqa: N802 (Qt's name)
        """Its height depends on its width (the rows it wraps onto)."""
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 (Qt's name)
        """The height of the rows at `width`."""
        return self._place(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:  # noqa: N802 (Qt's name)
        """Place the items in `rect`."""
        super().setGeometry(rect)
        self._place(rect, move=True)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        """Every item on one row."""
        visible = self._visible()
        width = sum(item.sizeHint().width() for item in visible) + self._spacing * max(0, len(visible) - 1)
        height = max((item.sizeHint().height() for item in visible), default=0)
        margins = self.contentsMargins()
        return QSize(width + margins.left() + margins.right(), height + margins.top() + margins.bottom())

    def minimumSize(self) -> QSize:  # noqa: N802 (Qt's name)
        """As wide as the widest item's minimum: the rest wraps."""
        visible = self._visible()
        width = max((item.minimumSize().width() for item in visible), default=0)
        height = max((item.minimumSize().height() for item in visible), default=0)
        margins = self.contentsMargins()
        return QSize(width + margins.left() + margins.right(), height + margins.top() + margins.bottom())

    def _visible(self) -> list[QLayoutItem]:
        return [item for item in self._items if not item.isEmpty()]

    def _rows(self, width: int) -> list[list[QLayoutItem]]:
        rows: list[list[QLayoutItem]] = [[]]
        used = 0
        for item in self._visible():
            wanted = min(item.sizeHint().width(), width)
            if rows[-1] and used + self._spacing + wanted > width:
                rows.append([])
                used = 0
            used += (self._spacing if rows[-1] else 0) + wanted
            rows[-1].append(item)
        return [row for row in rows if row]

    def _place(self, rect: QRect, move: bool) -> int:
        margins = self.contentsMargins()
        area = rect.adjusted(margins.left(), margins.top(), -margins.right(), -margins.bottom())
        y = area.y()
        for row in self._rows(area.width()):
            widths = [min(item.sizeHint().width(), area.width()) for item in row]
            spare = area.width() - sum(widths) - self._spacing * (len(row) - 1)
            growing = [i for i, item in enumerate(row) if _expands(item)]
            for i in growing:
                widths[i] += spare // len(growing)
            height = max(item.sizeHint().height() for item in row)
            x = area.x()
            for item, width in zip(row, widths, strict=True):
                if move:
                    item.setGeometry(QRect(QPoint(x, y), QSize(width, height)))
                x += width + self._spacing
            y += height + self._spacing
        return y - self._spacing - area.y() + margins.top() + margins.bottom() if y > area.y() else 0


def _expands(item: QLayoutItem) -> bool:
    widget = item.widget() if isinstance(item, QWidgetItem) else None
    return widget is not None and widget.sizePolicy().horizontalPolicy() in EXPANDING


def controls_bar(parent: QWidget, *widgets: QWidget) -> QWidget:
    """A row of controls that wraps onto more rows when the view is too narrow for it."""
    bar = QWidget(parent)
    flow = FlowLayout(bar)
    # The layout's Python side (its item list) must live as long as the bar: PySide keeps only the C++ object.
    bar.flow = flow
    for widget in widgets:
        flow.addWidget(widget)
    policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
    policy.setHeightForWidth(True)
    bar.setSizePolicy(policy)
    return bar


def labelled(parent: QWidget, text: str, widget: QWidget) -> QWidget:
    """`widget` with a label before it, kept together on one row of a wrapping bar."""
    box = QWidget(parent)
    layout = QHBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(QLabel(text, box))
    layout.addWidget(widget)
    return box


class AdaptiveSplitter(QSplitter):
    """Two or more panes side by side while the splitter is wide enough for it, stacked when it is not."""

    def __init__(self, parent: QWidget | None = None, wide: float = 1.3, minimum_width: int = 640) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self._wide = wide
        self._minimum_width = minimum_width
        self._ratios: tuple[int, ...] = ()
        self._dragged = False
        self.setChildrenCollapsible(False)
        self.splitterMoved.connect(self._moved)

    def set_ratios(self, *ratios: int) -> None:
        """Share the length between the panes in these proportions (until the user drags a handle), whatever
        the panes' size hints (a long caption must not take the plot's width)."""
        self._ratios = ratios

    def _moved(self) -> None:
        self._dragged = True

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        """Pick the orientation for the new size: side by side only when wide (ratio and width) enough."""
        size = event.size()
        side_by_side = size.width() >= self._minimum_width and size.width() >= self._wide * size.height()
        wanted = Qt.Orientation.Horizontal if side_by_side else Qt.Orientation.Vertical
        if wanted != self.orientation():
            self.setOrientation(wanted)
        super().resizeEvent(event)
        if self._ratios and not self._dragged and len(self._ratios) == self.count():
            length = size.width() if wanted == Qt.Orientation.Horizontal else size.height()
            total = sum(self._ratios)
            self.setSizes([length * ratio // total for ratio in self._ratios])


def shrinkable(plot: QWidget) -> QWidget:
    """Let a plot widget shrink to PLOT_MINIMUM whatever its placeholder says (the placeholder wraps instead)."""
    plot.setMinimumSize(PLOT_MINIMUM)
    for label in plot.findChildren(QLabel):
        if label.objectName().endswith("-placeholder"):
            label.setWordWrap(True)
    return plot


def page_layout(page: QWidget, controls: QWidget | None, note: QLabel, body: QWidget,
                *below: QWidget | QLayout) -> QVBoxLayout:
    """Lay out a Similarity page from the top: its controls (if any), its note, its body taking the spare height,
    then `below` (a read-out, a caption) in order."""
    layout = QVBoxLayout(page)
    if controls is not None:
        layout.addWidget(controls)
    layout.addWidget(note)
    layout.addWidget(body, 1)
    for item in below:
        if isinstance(item, QLayout):
            layout.addLayout(item)
        else:
            layout.addWidget(item)
    return layout


def plot_with_side(page: QWidget, plot: QWidget, *side: QWidget, grows: QWidget | None = None) -> AdaptiveSplitter:
    """`plot` beside a column of the `side` widgets (above it when narrow), 3:2; `grows` is the side widget that
    takes the column's spare height (None: it stays empty, below them)."""
    column = QWidget(page)
    column_layout = QVBoxLayout(column)
    column_layout.setContentsMargins(0, 0, 0, 0)
    for widget in side:
        column_layout.addWidget(widget, 1 if widget is grows else 0)
    if grows is None:
        column_layout.addStretch(1)
    splitter = AdaptiveSplitter(page)
    splitter.addWidget(plot)
    splitter.addWidget(column)
    splitter.set_ratios(3, 2)
    return splitter

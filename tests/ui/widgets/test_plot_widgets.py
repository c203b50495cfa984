"""The shared plot widgets driven like a user: real mouse events over a shown heatmap, clicks, Export to files."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QDesktopServices, QImage
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication, QFileDialog, QMainWindow, QMessageBox, QToolButton, QWidget
from pytestqt.qtbot import QtBot

from bertdesk.core.errors import BertdeskError
from bertdesk.ui.widgets.bars import Bars
from bertdesk.ui.widgets.curves import Curves
from bertdesk.ui.widgets.export_action import export_to, safe_stem
from bertdesk.ui.widgets.heatmap import NAN_COLOR, Heatmap
from bertdesk.ui.widgets.open_path import open_path

SIZE = (900, 700)


def labels(n: int, prefix: str = "tok") -> list[str]:
    return [f"{prefix}{i}" for i in range(n)]


def cosines(n: int, seed: int = 0) -> np.ndarray:
    """A real cosine matrix (of random vectors), float32 as the models give it."""
    vectors = np.random.default_rng(seed).normal(size=(n, 16))
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    return (unit @ unit.T).astype(np.float32)


def shown(qtbot: QtBot, widget: object) -> object:
    qtbot.addWidget(widget)
    widget.resize(*SIZE)
    widget.show()
    qtbot.waitExposed(widget)
    qtbot.wait(20)  # let the plot lay out its axes
    return widget


@pytest.fixture
def heatmap(qtbot: QtBot) -> Heatmap:
    widget = Heatmap()
    widget.set_matrix(cosines(128), labels(128), labels(128, "col"), title="cosines")
    return shown(qtbot, widget)


def viewport_point(heatmap: Heatmap, row: int, col: int, dx: float = 0.0, dy: float = 0.0) -> QPoint:
    """A cell centre (plus an offset in pixels) in the viewport's coordinates, where mouse events go."""
    center = heatmap.cell_center(row, col)
    return QPoint(round(center.x() + dx), round(center.y() + dy))


def move(qtbot: QtBot, heatmap: Heatmap, point: QPoint) -> None:
    """Move the mouse there as a user would (a real QMouseEvent through Qt's window system) and let it arrive."""
    qtbot.mouseMove(heatmap._graphics.viewport(), point)
    QApplication.processEvents()


def test_hover_names_the_row_and_column_under_the_mouse(qtbot: QtBot, heatmap: Heatmap) -> None:
    matrix = heatmap.matrix().values
    for row, col in [(0, 0), (5, 17), (64, 3), (127, 127), (100, 20)]:
        move(qtbot, heatmap, viewport_point(heatmap, row, col))
        assert heatmap.hover_text() == f"tok{row} × col{col} = {float(matrix[row, col]):.4g}"


@pytest.mark.slow
def test_a_soak_of_mouse_moves_always_reports_the_cell_under_the_mouse(qtbot: QtBot, heatmap: Heatmap) -> None:
    hovered: list[tuple[int, int]] = []
    heatmap.cell_hovered.connect(lambda row, col: hovered.append((row, col)))
    rng = np.random.default_rng(1)
    cells = rng.integers(0, 128, size=(2000, 2))
    cells[::7, 0] = cells[::7, 1] = 127  # repeats of one cell: no signal for a move that stays inside it
    previous = None
    for i, (row, col) in enumerate(cells.tolist()):
        if i % 200 == 199:  # now and then leave the cells over an axis label
            move(qtbot, heatmap, QPoint(5, 5))
            assert hovered[-1] == (-1, -1)
            previous = None
        move(qtbot, heatmap, viewport_point(heatmap, row, col))
        if (row, col) != previous:
            assert hovered[-1] == (row, col), f"move {i}"
        previous = (row, col)
    move(qtbot, heatmap, viewport_point(heatmap, 9, 99))
    assert heatmap.hover_text().startswith("tok9 × col99 = ")


def test_a_click_selects_the_cell(qtbot: QtBot, heatmap: Heatmap) -> None:
    viewport = heatmap._graphics.viewport()
    with qtbot.waitSignal(heatmap.cell_clicked, timeout=2000) as clicked:
        qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=viewport_point(heatmap, 12, 40))
    assert clicked.args == [12, 40]
    assert heatmap.selected_cell() == (12, 40)
    # A click outside the cells selects nothing new.
    with qtbot.assertNotEmitted(heatmap.cell_clicked, wait=100):
        qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=QPoint(3, 3))
    assert heatmap.selected_cell() == (12, 40)


def pixel(heatmap: Heatmap, row: int, col: int, dx: float = 0.0, dy: float = 0.0) -> QColor:
    image = heatmap._graphics.grab().toImage()
    point = heatmap.cell_center(row, col)
    ratio = image.devicePixelRatio()
    return image.pixelColor(round((point.x() + dx) * ratio), round((point.y() + dy) * ratio))


def test_masked_and_missing_cells_are_drawn_grey_and_said_so(qtbot: QtBot) -> None:
    scores = np.full((12, 12), 0.9, dtype=np.float32)
    scores[np.triu_indices(12, 1)] = -np.inf
    scores[6, 2] = np.nan
    heatmap = shown(qtbot, Heatmap())
    heatmap.set_matrix(scores, labels(12), labels(12), title="scores")
    qtbot.wait(20)
    move(qtbot, heatmap, viewport_point(heatmap, 0, 5))
    assert heatmap.hover_text() == "tok0 × tok5 = −∞ (masked)"
    move(qtbot, heatmap, viewport_point(heatmap, 6, 2))
    assert heatmap.hover_text() == "tok6 × tok2 = no value (NaN)"
    # The NaN cell is plain grey; a masked cell is grey off its diagonal line and darker on it.
    assert pixel(heatmap, 6, 2) == NAN_COLOR
    assert pixel(heatmap, 0, 5, dx=8, dy=8) == NAN_COLOR
    # The darkest pixel near the centre: the line is a pixel or two wide, and rounding may put it beside the centre.
    on_line = min((pixel(heatmap, 0, 5, dx=dx, dy=dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)),
                  key=QColor.lightness)
    assert on_line.lightness() < NAN_COLOR.lightness() - 20
    finite = pixel(heatmap, 3, 1)
    assert finite.red() > finite.blue() + 60  # 0.9 on the diverging map is red


def test_labels_are_thinned_so_they_do_not_overlap(qtbot: QtBot, heatmap: Heatmap) -> None:
    for name, length in (("left", heatmap._plot.getViewBox().height()), ("top", heatmap._plot.getViewBox().width())):
        axis = heatmap._plot.getAxis(name)
        drawn = axis.drawn_labels()
        assert 10 < len(drawn) < 128
        positions = [position for position, _ in drawn]
        step = positions[1] - positions[0]
        assert all(b - a == step for a, b in zip(positions, positions[1:], strict=False))
        assert step * length / 128 >= axis.pitch()  # pixels between labels ≥ a line of text
        prefix = "tok" if name == "left" else "col"
        assert all(text == f"{prefix}{position}" for position, text in drawn)
    small = shown(qtbot, Heatmap())
    small.set_matrix(cosines(40), labels(40), labels(40))
    qtbot.wait(20)
    assert [text for _, text in small._plot.getAxis("top").drawn_labels()] == labels(40)


def test_long_labels_are_elided(qtbot: QtBot) -> None:
    heatmap = shown(qtbot, Heatmap())
    long = "a sentence far too long to print whole beside a heatmap row " * 8
    heatmap.set_matrix(np.eye(2), [long, "short"], ["x", "y"])
    qtbot.wait(20)
    drawn = dict(heatmap._plot.getAxis("left").drawn_labels())
    assert drawn[1] == "short" and drawn[0].endswith("…") and len(drawn[0]) < 25
    move(qtbot, heatmap, viewport_point(heatmap, 0, 1))
    assert heatmap.hover_text() == f"{long} × y = 0"  # the read-out says it whole
    QApplication.processEvents()
    assert heatmap.width() == SIZE[0]  # and does not widen the window to do so


def test_a_512_matrix_draws_quickly_with_a_few_items(qtbot: QtBot) -> None:
    heatmap = shown(qtbot, Heatmap())
    matrix = cosines(512)
    matrix[np.triu_indices(512, 1)] = -np.inf
    started = time.perf_counter()
    heatmap.set_matrix(matrix, labels(512), labels(512))
    heatmap._graphics.grab()
    elapsed = time.perf_counter() - started
    assert elapsed < 3.0, f"{elapsed:.2f} s to set and draw a 512×512 matrix"
    assert len(heatmap._graphics.scene().items()) < 60  # one image and one mask item, not a cell each
    move(qtbot, heatmap, viewport_point(heatmap, 300, 200))
    assert heatmap.hover_text().startswith("tok300 × tok200 = ")


def test_export_round_trips(qtbot: QtBot, heatmap: Heatmap, tmp_path: Path) -> None:
    matrix = heatmap.matrix().values
    with open(export_to(heatmap, tmp_path / "m.csv"), newline="", encoding="utf-8") as file:
        rows = list(csv.reader(file))
    assert rows[0] == ["", *labels(128, "col")] and [row[0] for row in rows[1:]] == labels(128)
    np.testing.assert_array_equal(np.array([[float(v) for v in row[1:]] for row in rows[1:]], np.float32), matrix)
    data = json.loads(export_to(heatmap, tmp_path / "m.json").read_text(encoding="utf-8"))
    np.testing.assert_array_equal(np.array(data["values"], np.float32), matrix)
    assert data["rows"] == labels(128) and data["title"] == "cosines"

    png = QImage(str(export_to(heatmap, tmp_path / "m.png")))
    view = heatmap.export_view()
    assert png.size() == view.size() * view.devicePixelRatio()
    svg_path = export_to(heatmap, tmp_path / "m.svg")
    assert QSvgRenderer(str(svg_path)).isValid()
    svg = svg_path.read_text(encoding="utf-8")
    assert "tok0" in svg and "col120" in svg and "cosines" in svg

    with pytest.raises(BertdeskError, match="must end in"):
        export_to(heatmap, tmp_path / "m.xlsx")


def test_the_export_menu_asks_for_a_name_and_adds_the_suffix(
    qtbot: QtBot, heatmap: Heatmap, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []

    def save_dialog(parent: object, caption: str, suggested: str, file_filter: str) -> tuple[str, str]:
        asked.append(suggested)
        return str(tmp_path / "chosen"), file_filter

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_dialog)
    with qtbot.waitSignal(heatmap.export_button.exported) as exported:
        heatmap.export_button.action("json").trigger()
    assert exported.args == [str(tmp_path / "chosen.json")]
    assert json.loads((tmp_path / "chosen.json").read_text())["kind"] == "matrix"
    assert asked == [str(Path.home() / "cosines.json")]
    heatmap.export_button.action("png").trigger()
    assert asked[-1] == str(tmp_path / "cosines.png")  # the folder last used
    assert QImage(str(tmp_path / "chosen.png")).width() > 500


def test_an_export_says_where_it_went_and_shows_the_folder(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = QMainWindow()
    qtbot.addWidget(window)
    heatmap = Heatmap(window)
    window.setCentralWidget(heatmap)
    window.statusBar()  # as the main window has one from the start
    heatmap.set_matrix(cosines(5), labels(5), labels(5), title="Cosine, layer 3 → 4 (bank · river)")
    window.show()
    asked: list[str] = []

    def save_dialog(parent: object, caption: str, suggested: str, file_filter: str) -> tuple[str, str]:
        asked.append(suggested)
        return str(tmp_path / "m"), file_filter

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_dialog)
    heatmap.export_button.action("csv").trigger()
    assert Path(asked[0]).name == "Cosine-layer-3-4-bank-river.csv"  # readable, and safe on every system
    assert window.statusBar().currentMessage() == f"Exported m.csv to {tmp_path}"
    button = window.statusBar().findChild(QToolButton, "export-show-folder")
    assert button.isVisible() and button.toolTip() == str(tmp_path)
    opened: list[str] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()) or True)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert opened == [str(tmp_path)]
    window.statusBar().clearMessage()  # the button goes with its message
    assert not button.isVisible()


def test_where_no_application_opens_a_path_a_dialog_shows_it_to_copy(qtbot: QtBot, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: False)
    assert not open_path(parent, tmp_path / "log.txt", "the log file")
    (box,) = [b for b in parent.findChildren(QMessageBox) if b.objectName() == "open-path-fallback"]
    assert "No application on this desktop opened the log file" in box.text()
    assert str(tmp_path / "log.txt") in box.text()
    copy = next(b for b in box.buttons() if b.text() == "Copy path")
    copy.click()
    assert QApplication.clipboard().text() == str(tmp_path / "log.txt")
    assert box.isVisible()  # copying leaves the dialog open
    box.close()


@pytest.mark.parametrize(("name", "stem"), [
    ("Cosine of the pair after each layer", "Cosine-of-the-pair-after-each-layer"),
    ("a/b\\c: d?*<>|", "a-b-c-d"), ("", "export"), ("→ · ()", "export"), ("Попытка, 日本語", "Попытка-日本語"),
    ("word " * 40, "-".join(["word"] * 16)), ("x" * 100, "x" * 80),
])
def test_suggested_export_names_are_readable_and_safe(name: str, stem: str) -> None:
    assert safe_stem(name) == stem


def test_a_failed_export_says_why_and_keeps_nothing_half_written(
    qtbot: QtBot, heatmap: Heatmap, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "missing" / "m.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args: (str(target), ""))
    with qtbot.assertNotEmitted(heatmap.export_button.exported):
        heatmap.export_button.action("csv").trigger()
    boxes = [box for box in heatmap.findChildren(QMessageBox) if box.objectName() == "export-failed"]
    assert len(boxes) == 1 and boxes[0].isVisible()
    assert f"Cannot write {target}" in boxes[0].text()
    boxes[0].close()
    assert not target.parent.exists()


@pytest.mark.parametrize("make", [Heatmap, Bars, Curves])
def test_empty_data_shows_a_placeholder_and_exports_nothing(qtbot: QtBot, make: type, tmp_path: Path) -> None:
    widget = shown(qtbot, make(placeholder="Type some text to see it here."))
    assert widget.export_view().objectName().endswith("-placeholder")
    assert widget.export_view().text() == "Type some text to see it here."
    with pytest.raises(BertdeskError, match="nothing to export"):
        export_to(widget, tmp_path / "empty.csv")
    assert export_to(widget, tmp_path / "empty.png").stat().st_size > 0


def test_bars_are_sorted_largest_first_with_values_printed(qtbot: QtBot, tmp_path: Path) -> None:
    bars = shown(qtbot, Bars())
    bars.set_bars(["positive", "negative", "neutral", "unknown"], [0.2, 0.7, 0.1, np.nan], title="sentiment")
    assert bars.shown_labels() == ["negative", "positive", "neutral", "unknown"]
    assert bars.value_texts() == ["70.0%", "20.0%", "10.0%", "NaN"]
    assert bars.export_view().objectName() == "bars-plot"
    bars.export_view().grab()  # paint, so the axis lays out its labels
    assert bars._plot.getAxis("left").drawn_labels() == list(enumerate(bars.shown_labels()))
    with open(export_to(bars, tmp_path / "b.csv"), newline="") as file:
        assert list(csv.reader(file))[1:3] == [["negative", "0.7"], ["positive", "0.2"]]


def test_many_bars_show_the_top_ones_and_export_all(qtbot: QtBot, tmp_path: Path) -> None:
    bars = shown(qtbot, Bars(max_bars=25))
    values = np.random.default_rng(3).normal(size=5000)
    bars.set_bars(labels(5000, "class"), values, kind="score")
    order = np.argsort(-values)
    assert bars.shown_labels() == [f"class{i}" for i in order[:25]]
    assert bars.value_texts()[0] == f"{values[order[0]]:.3f}"
    exported = json.loads(export_to(bars, tmp_path / "b.json").read_text())["bars"]
    assert len(exported) == 5000 and exported[0]["label"] == f"class{order[0]}"


def test_curves_boundaries_span_and_hover(qtbot: QtBot, tmp_path: Path) -> None:
    curves = shown(qtbot, Curves())
    tokens = labels(60)
    start = np.random.default_rng(4).dirichlet(np.ones(60))
    curves.set_curves(tokens, {"start": start, "end": start[::-1]}, boundaries=[20, 40], span=(7, 9), title="qa")
    qtbot.wait(20)
    assert curves.boundary_positions() == [19.5, 39.5]
    assert curves.span_region() == (6.5, 9.5)
    view = curves._plot.getViewBox()
    scene_point = view.mapViewToScene(QPointF(33, float(start.max()) / 2))
    qtbot.mouseMove(curves._plot_widget.viewport(), curves._plot_widget.mapFromScene(scene_point))
    QApplication.processEvents()
    assert curves.hover_text() == f"#33 tok33: start {start[33]:.4g}, end {start[26]:.4g}"
    assert curves.describe(5) == f"#5 tok5: start {start[5]:.4g}, end {start[54]:.4g}"
    layers = ["emb", *map(str, range(1, 60))]
    curves.set_curves(layers, {"cosine": start}, x_name="layer")  # over layers the read-out names the layer
    assert curves.describe(5) == f"layer 5: cosine {start[5]:.4g}" and curves.describe(0).startswith("layer emb:")
    curves.set_curves(tokens, {"start": start, "end": start[::-1]}, boundaries=[20, 40], span=(7, 9), title="qa")
    drawn = curves._plot.getAxis("bottom").drawn_labels()
    assert drawn and all(text == tokens[i] for i, text in drawn)
    data = json.loads(export_to(curves, tmp_path / "c.json").read_text())
    assert data["boundaries"] == [20, 40] and data["span"] == [7, 9] and data["tokens"] == tokens


def test_curves_over_5000_tokens_draw_quickly(qtbot: QtBot) -> None:
    curves = shown(qtbot, Curves())
    rng = np.random.default_rng(5)
    started = time.perf_counter()
    series = {"start": rng.random(5000), "end": rng.random(5000)}
    curves.set_curves(labels(5000), series, boundaries=range(0, 5000, 256))
    curves._plot_widget.grab()
    assert time.perf_counter() - started < 3.0
    assert len(curves._plot.getAxis("bottom").drawn_labels()) < 200

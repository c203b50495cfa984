"""The Classify tab driven as a user would: the sentiment fixture's head, zero-shot and a few-shot head with the
default model, batches that complete and cancel, why this label, and a soak of what paints."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from pytestqt.qtbot import QtBot

from bertdesk.core.bundles.bundle import open_model
from bertdesk.core.conversion.convert import convert_checkpoint
from bertdesk.core.files.folders import models_dir
from bertdesk.ui.tabs.classify import Tab
from bertdesk.ui.tabs.classify.texts import FEW_SHOT, FINE_TUNED, ZERO_SHOT
from bertdesk.ui.widgets.export_action import export_to

RUN_TIMEOUT_MS = 120_000


@pytest.fixture(scope="session")
def sst2_bundle(shared_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The SST-2 sentiment fixture converted with the project's converter."""
    return convert_checkpoint(shared_dir / "fixtures" / "minilm-l6-sst2", tmp_path_factory.mktemp("sst2") / "sst2")


@pytest.fixture
def tab(qtbot: QtBot) -> Iterator[Tab]:
    made = Tab()
    qtbot.addWidget(made)
    made.resize(1400, 900)
    made.show()
    yield made
    made.shutdown()


def wait_for_result(qtbot: QtBot, tab: Tab) -> None:
    qtbot.waitUntil(lambda: not tab.is_busy() and tab.result() is not None and tab.is_current(),
                    timeout=RUN_TIMEOUT_MS)


def type_text(qtbot: QtBot, tab: Tab, text: str) -> None:
    tab.text_edit.clear()
    qtbot.keyClicks(tab.text_edit, text)


def test_the_sentiment_head_says_positive_and_shows_its_path_and_why(qtbot: QtBot, tab: Tab, sst2_bundle: Path):
    tab.set_bundle(open_model(sst2_bundle))
    type_text(qtbot, tab, "A wonderful, moving film with superb acting.")
    wait_for_result(qtbot, tab)
    assert tab.method() == FINE_TUNED
    assert tab.bars.shown_labels() == ["POSITIVE", "NEGATIVE"]
    assert float(tab.bars.value_texts()[0].rstrip("%")) > 90
    stages = dict(tab.path_view.stages())
    assert stages["[CLS] vector"] == "384 numbers"
    assert stages["pooler"] == "W 384×384 + b → tanh" and stages["classifier"] == "W 2×384 + b"
    assert stages["Softmax"] == "one label wins, sum 1" and stages["Label"].startswith("POSITIVE")
    assert "2×384" in tab.path_view.caption.text()
    # Why: every word coloured, the strongest supporting word is a sentiment word, in green.
    colours = tab.why.colours()
    assert [word for word, _, _ in colours] == ["A", "wonderful", ",", "moving", "film", "with", "superb", "acting",
                                                "."]
    word, importance, colour = max(colours, key=lambda c: c[1])
    assert word in {"wonderful", "moving", "superb"} and importance > 0
    assert f"background-color:{colour}" in tab.why.text.toHtml().replace(" ", "")
    assert tab.stale_label.isHidden() and not tab.message.isVisible()

    # A pair: segment B is read with the text.
    qtbot.mouseClick(tab.pair_check, Qt.MouseButton.LeftButton, pos=QPoint(5, tab.pair_check.height() // 2))
    assert tab.pair_check.isChecked() and tab.pair_box.isVisible()
    qtbot.keyClicks(tab.pair_edit, "It was dreadful.")
    wait_for_result(qtbot, tab)
    assert tab.result().row.pair == "It was dreadful."
    assert {w.segment for w in tab.result().explanation.words} == {0, 1}


def test_an_embedding_model_offers_zero_shot_not_an_error(qtbot: QtBot, tab: Tab, default_bundle_dir: Path):
    tab.set_bundle(open_model(default_bundle_dir))
    type_text(qtbot, tab, "The striker scored twice in the final minutes of the match.")
    wait_for_result(qtbot, tab)
    assert tab.method() == ZERO_SHOT
    assert not tab.method_buttons[FINE_TUNED].isEnabled() and "no classifier head" in tab.availability.text()
    assert tab.bars.shown_labels()[0] == "sports"
    assert dict(tab.path_view.stages())["Cosine"] == "with 4 label sentences (4×384)"
    sharp = tab.result().row.top.probability
    # A higher temperature flattens the probabilities; the ranking stays.
    tab.zero_shot.slider.setValue(tab.zero_shot.slider.maximum())
    assert tab.zero_shot.temperature() == 1.0
    qtbot.waitUntil(lambda: tab.result().row.method == "zero-shot" and not tab.is_busy() and tab.is_current(),
                    timeout=RUN_TIMEOUT_MS)
    assert tab.result().row.top.label == "sports" and tab.result().row.top.probability < sharp
    # A label typed in the table joins the run.
    tab.zero_shot.table.add_row()
    tab.zero_shot.table.item(4, 0).setText("football")
    wait_for_result(qtbot, tab)
    qtbot.waitUntil(lambda: "football" in tab.bars.shown_labels(), timeout=RUN_TIMEOUT_MS)


def test_a_few_shot_head_trains_and_saves_a_bundle_that_opens(qtbot: QtBot, tab: Tab, default_bundle_dir: Path):
    tab.set_bundle(open_model(default_bundle_dir))
    wait_for_result(qtbot, tab)
    qtbot.mouseClick(tab.method_buttons[FEW_SHOT], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Train the few-shot head first" in tab.message.text(), timeout=5000)
    assert tab.bars.bars() is None
    qtbot.mouseClick(tab.few_shot.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.head() is not None, timeout=RUN_TIMEOUT_MS)
    assert "3-fold accuracy 100%" in tab.few_shot.report.text()
    assert tab.few_shot.confusion.export_data().values.tolist() == [[3, 0, 0], [0, 3, 0], [0, 0, 3]]
    type_text(qtbot, tab, "Whisk the eggs and sugar, then fold in the flour.")
    wait_for_result(qtbot, tab)
    assert tab.method() == FEW_SHOT and tab.bars.shown_labels()[0] == "cooking"
    assert dict(tab.path_view.stages())["few-shot head"] == "W 3×384 + b"

    assert tab.few_shot.save_button.isEnabled()
    with qtbot.waitSignal(tab.models_changed, timeout=RUN_TIMEOUT_MS):  # the window lists the new model at once
        tab.save_head("my-topics")
    qtbot.waitUntil(lambda: tab.saved_path() is not None and not tab.is_busy(), timeout=RUN_TIMEOUT_MS)
    saved = open_model(str(models_dir() / "my-topics"))
    assert saved.info.task == "sequence-classification" and saved.info.labels == ["sport", "cooking", "finance"]
    assert "Saved as my-topics" in tab.few_shot.report.text()
    # The saved model in the tab: its head is the fine-tuned head now, and agrees with the unsaved one.
    unsaved = tab.result().row.top.probability
    tab.set_bundle(saved)
    wait_for_result(qtbot, tab)
    assert tab.method() == FINE_TUNED and tab.bars.shown_labels()[0] == "cooking"
    assert abs(tab.result().row.top.probability - unsaved) < 1e-5


def test_a_5000_line_batch_completes_sorts_and_exports(qtbot: QtBot, tab: Tab, tiny_classifier_bundle: Path,
                                                       tmp_path: Path):
    tab.set_bundle(open_model(tiny_classifier_bundle))
    tab.pages.setCurrentIndex(1)
    lines = [f"line {i} the cat sat on the mat" * (1 + i % 3) for i in range(5000)]
    tab.set_input_text("\n".join(lines))
    qtbot.mouseClick(tab.batch.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not tab.batch.is_running(), timeout=RUN_TIMEOUT_MS)
    model = tab.batch.model
    assert model.rowCount() == 5000
    assert "rows/s" in tab.batch.rate.text() and tab.batch.progress.value() == 1000
    assert [model.index(r, 0).data() for r in range(3)] == ["1", "2", "3"]
    assert tab.batch.stale_label.isHidden()
    # Sorting by probability, largest first (a click on the header, twice).
    header = tab.batch.table.horizontalHeader()
    for _ in range(2):
        qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton,
                         pos=QPoint(header.sectionViewportPosition(3) + 10, header.height() // 2))
    shown = [float(model.index(r, 3).data().rstrip("%")) for r in range(model.rowCount())]
    assert shown == sorted(shown, reverse=True)
    out = export_to(tab.batch, tmp_path / "batch.csv")
    with out.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0][:4] == ["row", "text", "label", "probability"] and len(rows) == 5001
    assert sorted(int(r[0]) for r in rows[1:]) == list(range(1, 5001))


def test_a_cancelled_batch_stops_and_is_marked(qtbot: QtBot, tab: Tab, tiny_classifier_bundle: Path):
    tab.set_bundle(open_model(tiny_classifier_bundle))
    tab.pages.setCurrentIndex(1)
    tab.set_input_text("\n".join(f"row {i} " + "the cat sat on the mat " * 8 for i in range(50_000)))
    tab.run_batch()
    qtbot.waitUntil(lambda: tab.batch.model.rowCount() > 0, timeout=RUN_TIMEOUT_MS)
    assert tab.cancel()  # Esc on the Batch page cancels the batch
    done = tab.batch.model.rowCount()
    assert done < 50_000 and "cancelled" in tab.batch.rate.text()
    qtbot.wait(800)
    assert tab.batch.model.rowCount() == done  # nothing arrives after the cancel
    assert not tab.batch.stale_label.isHidden() and "cancelled" in tab.batch.stale_label.text()
    assert tab.batch.run_button.isEnabled()


def test_the_state_round_trips(qtbot: QtBot, tab: Tab) -> None:
    tab.text_edit.setPlainText("hello")
    tab.zero_shot.set_labels([("a", "first"), ("b", "")])
    tab.zero_shot.set_temperature(0.2)
    tab.few_shot.set_examples([("x", "1"), ("y", "2")])
    tab.set_method(ZERO_SHOT)
    state = tab.save_state()
    other = Tab()
    qtbot.addWidget(other)
    other.restore_state(state)
    assert other.save_state() == state
    other.restore_state({"labels": "nonsense", "temperature": -1, "method": 3, "examples": [[1, 2]]})
    assert other.save_state() == state
    other.shutdown()


@pytest.mark.slow
def test_soak_hover_and_scroll_over_the_results_and_the_bars(qtbot: QtBot, tab: Tab, tiny_classifier_bundle: Path):
    tab.set_bundle(open_model(tiny_classifier_bundle))
    wait_for_result(qtbot, tab)
    tab.pages.setCurrentIndex(1)
    tab.set_input_text("\n".join(f"row {i} " + "word " * (i % 20) for i in range(5000)))
    assert tab.batch.lines.document().blockCount() == 5000
    qtbot.mouseClick(tab.batch.run_button, Qt.MouseButton.LeftButton)
    viewport = tab.batch.table.viewport()
    rng = np.random.default_rng(0)
    moves = 0
    while tab.batch.is_running() or moves < 3000:  # hover while rows arrive, and after
        point = QPoint(int(rng.integers(0, viewport.width())), int(rng.integers(0, viewport.height())))
        qtbot.mouseMove(viewport, point)
        if moves % 20 == 0:
            tab.batch.table.verticalScrollBar().setValue(int(rng.integers(0, tab.batch.table.verticalScrollBar()
                                                                          .maximum() + 1)))
        moves += 1
        if moves > 20_000:
            break
    qtbot.waitUntil(lambda: not tab.batch.is_running(), timeout=RUN_TIMEOUT_MS)  # a slow machine: the rest of the run
    assert tab.batch.model.rowCount() == 5000
    tab.pages.setCurrentIndex(0)
    plot = tab.bars._plot_widget.viewport()
    for i in range(2000):
        qtbot.mouseMove(plot, QPoint(i % plot.width(), (i * 7) % plot.height()))
    assert len(tab.bars.shown_labels()) == 3

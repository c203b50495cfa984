"""The Similarity tab driven as a user would: typing, the layer slider, the head picker, the segment-pair filter and
the causal toggle; each drawn matrix equals the core's, and moving a control never runs the model again."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from bertdesk.core.bundles.bundle import Bundle
from bertdesk.core.similarity.attention import attention_map, attention_scores, run_forward
from bertdesk.core.similarity.cosine import cosine_by_layer, layer_cosine
from bertdesk.ui.tabs.registry import tab_class
from bertdesk.ui.tabs.similarity import Tab
from bertdesk.ui.tabs.similarity import tab as tab_module

TEXT = "the bank of the river flooded, so the bank raised its rates."


@pytest.fixture(scope="module")
def bundle(tiny_bundle: Path) -> Bundle:
    return Bundle(tiny_bundle)


@pytest.fixture
def tab(qtbot, bundle: Bundle, monkeypatch: pytest.MonkeyPatch) -> Iterator[Tab]:
    made = Tab()
    made.jobs = []  # (description, thread the analysis ran on) of every job submitted
    original = tab_module.analyse

    def recording(*args, **kwargs):
        made.jobs.append(threading.current_thread())
        return original(*args, **kwargs)

    monkeypatch.setattr(tab_module, "analyse", recording)
    qtbot.addWidget(made)
    made.resize(1200, 800)
    made.show()
    made.set_bundle(bundle)
    yield made
    made.shutdown()


def typed(qtbot, tab: Tab, text: str = TEXT) -> None:
    """Type `text` into the text box and wait for its analysis to be drawn."""
    tab.text_edit.setFocus()
    qtbot.keyClicks(tab.text_edit, text)
    qtbot.waitUntil(lambda: tab.analysis is not None and tab.analysis.text == text and not tab.is_busy(),
                    timeout=20000)


def test_the_registry_shows_the_tab() -> None:
    assert tab_class("similarity") is Tab


def test_layer_slider_redraws_from_the_cached_pass_without_a_run(qtbot, tab: Tab, bundle: Bundle) -> None:
    typed(qtbot, tab)
    runs = len(tab.jobs)
    assert runs >= 1 and all(thread is not threading.main_thread() for thread in tab.jobs), "runs off the GUI thread"
    forward = run_forward(bundle, TEXT)
    page = tab.token_page
    slider = page.layer.slider
    assert (slider.minimum(), slider.maximum()) == (0, bundle.info.num_layers)
    for layer in range(bundle.info.num_layers, -1, -1):
        slider.setFocus()
        if slider.value() != layer:
            qtbot.keyClick(slider, Qt.Key.Key_Left)
        assert slider.value() == layer
        drawn = page.heatmap.matrix()
        np.testing.assert_allclose(drawn.values, layer_cosine(forward, layer)[1], atol=1e-5)
        assert list(drawn.row_labels) == forward.pieces == list(drawn.col_labels)
        assert f"{bundle.info.hidden_size}" in page.caption.text()
    assert not tab.is_busy() and len(tab.jobs) == runs, "moving the slider must not run the model"

    page.hide_special.click()
    assert "[CLS]" not in page.heatmap.matrix().row_labels and len(tab.jobs) == runs

    page.heatmap.cell_clicked.emit(1, 8)  # "bank" × "bank" (without [CLS]: token 2 and 9)
    curves = page.curve.curves()
    (values,) = curves.series.values()
    np.testing.assert_allclose(values, cosine_by_layer(forward, 2, 9), atol=1e-6)
    assert len(curves.x_labels) == bundle.info.num_layers + 1 and len(tab.jobs) == runs


def test_head_picker_and_pair_filter(qtbot, tab: Tab, bundle: Bundle) -> None:
    tab.pair_check.click()
    tab.pair_edit.setPlainText("who raised the rates?")
    typed(qtbot, tab)
    runs = len(tab.jobs)
    forward = run_forward(bundle, TEXT, "who raised the rates?")
    page = tab.attention_page
    tab.views.setCurrentWidget(page)
    assert page.layer.value() == bundle.info.num_layers, "the last layer first"
    np.testing.assert_allclose(page.heatmap.matrix().values, attention_map(forward, 2)[2], atol=1e-6)
    page.layer.slider.setValue(1)
    np.testing.assert_allclose(page.heatmap.matrix().values, attention_map(forward, 1)[2], atol=1e-6)
    page.head.setCurrentIndex(page.head.findData(1))
    page.layer.slider.setValue(2)
    np.testing.assert_allclose(page.heatmap.matrix().values, attention_map(forward, 2, 1)[2], atol=1e-6)
    assert "layer 2, head 1" in page.heatmap.matrix().title
    assert page.pair_filter.isEnabled()
    page.pair_filter.setCurrentIndex(page.pair_filter.findData("A→B"))
    rows, cols, expected = attention_map(forward, 2, 1, "A→B")
    drawn = page.heatmap.matrix()
    np.testing.assert_allclose(drawn.values, expected, atol=1e-6)
    assert list(drawn.row_labels) == [forward.pieces[i] for i in rows]
    assert list(drawn.col_labels) == [forward.pieces[i] for i in cols]
    assert "who" in drawn.col_labels and "who" not in drawn.row_labels
    assert len(tab.jobs) == runs

    tab.pair_check.click()  # back to one segment: the filter has nothing to filter
    qtbot.waitUntil(lambda: tab.analysis.pair is None and not tab.is_busy(), timeout=20000)
    assert not page.pair_filter.isEnabled() and page.pair_filter.currentData() is None


def test_causal_toggle_reruns_once_and_shows_the_masked_scores(qtbot, tab: Tab, bundle: Bundle) -> None:
    typed(qtbot, tab)
    page = tab.masks_page
    tab.views.setCurrentWidget(page)
    page.layer.slider.setValue(2)
    page.head.setValue(1)
    bidirectional = run_forward(bundle, TEXT)
    assert np.isfinite(page.scores.matrix().values).all()
    runs = len(tab.jobs)
    page.causal.click()
    qtbot.waitUntil(lambda: tab.analysis.causal is not None and not tab.is_busy(), timeout=20000)
    assert len(tab.jobs) == runs + 1
    assert tab.analysis.forward is not None and tab.analysis.forward.pieces == bidirectional.pieces
    causal = run_forward(bundle, TEXT, causal=True)
    scores = page.scores.matrix().values
    seq = len(causal.pieces)
    above = np.triu(np.ones((seq, seq), bool), 1)
    assert np.isneginf(scores[above]).all() and np.isfinite(scores[~above]).all()
    np.testing.assert_allclose(scores[~above], attention_scores(bundle, causal, 2, 1)[~above], atol=1e-5)
    probabilities = page.after.matrix().values
    assert (probabilities[above] == 0).all()
    np.testing.assert_allclose(page.current_probabilities(), probabilities, atol=1e-5)

    page.right_view.setCurrentIndex(page.right_view.findData("attention-change"))
    change = causal.attentions[1, 1] - bidirectional.attentions[1, 1]
    np.testing.assert_allclose(page.after.matrix().values, change, atol=1e-5)
    page.right_view.setCurrentIndex(page.right_view.findData("cosine-change"))
    change = layer_cosine(causal, 2)[1] - layer_cosine(bidirectional, 2)[1]
    np.testing.assert_allclose(page.after.matrix().values, change, atol=1e-5)

    page.causal.click()  # off and on again: both passes are cached
    assert np.isfinite(page.scores.matrix().values).all()
    page.causal.click()
    assert np.isneginf(page.scores.matrix().values[above]).all()
    assert not tab.is_busy() and len(tab.jobs) == runs + 1


def test_positions_view_and_state(qtbot, tab: Tab, bundle: Bundle) -> None:
    typed(qtbot, tab, "a short text")
    page = tab.positions_page
    tab.views.setCurrentWidget(page)
    page.count.setValue(10)
    assert page.positions.matrix().values.shape == (10, 10)
    assert page.segments.matrix().row_labels == ("A (type 0)", "B (type 1)")
    assert "belong to <b>positions</b>, not to tokens" in page.caption.text()
    state = tab.save_state()
    assert state["view"] == "positions" and state["text"] == "a short text"
    other = Tab()
    other.restore_state(state)
    assert other.text_edit.toPlainText() == "a short text" and other.views.currentWidget() is other.positions_page
    other.shutdown()
    other.deleteLater()


def test_hover_names_both_tokens_and_the_value(qtbot, tab: Tab) -> None:
    typed(qtbot, tab)
    heatmap = tab.token_page.heatmap
    QApplication.processEvents()
    viewport = heatmap._graphics.viewport()
    data = heatmap.matrix()
    rows, cols = data.values.shape
    for i in range(400):
        row, col = (i * 7) % rows, (i * 11) % cols
        point = heatmap.cell_center(row, col)
        event = QMouseEvent(QMouseEvent.Type.MouseMove, QPointF(point), QPointF(viewport.mapToGlobal(QPoint(
            int(point.x()), int(point.y())))), Qt.MouseButton.NoButton, Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(viewport, event)
        expected = f"{data.row_labels[row]} × {data.col_labels[col]} = {data.values[row, col]:.4g}"
        assert heatmap.hover_text() == expected


@pytest.mark.parametrize("size", [(1024, 700), (800, 560)])
def test_the_window_fits_a_small_screen_with_the_tab_on_show(qtbot, tiny_bundle: Path, size) -> None:
    from bertdesk.ui.main_window import MainWindow
    from bertdesk.ui.settings_store import SettingsStore

    window = MainWindow(SettingsStore(), model=str(tiny_bundle))
    qtbot.addWidget(window)
    tab = window.select_tab("similarity")
    window.show()
    qtbot.waitUntil(lambda: window.bundle is not None and not window.is_busy(), timeout=30_000)
    tab.set_input_text(TEXT)
    qtbot.waitUntil(lambda: tab.analysis is not None and not window.is_busy(), timeout=30_000)
    width, height = size
    # Whatever the other tabs need, the Similarity tab itself fits the space a window this small leaves it.
    assert tab.minimumSizeHint().width() <= width - 240 and tab.minimumSizeHint().height() <= height - 160
    for page in (tab.token_page, tab.attention_page, tab.masks_page, tab.positions_page):
        tab.views.setCurrentWidget(page)
        window.resize(width, height)
        QApplication.processEvents()
        if size == (1024, 700):
            assert (window.width(), window.height()) == (1024, 700)
    page = tab.masks_page
    tab.views.setCurrentWidget(page)
    window.resize(1024, 700)
    QApplication.processEvents()
    QApplication.processEvents()
    # The caption takes the height its width needs, no more: the plots get the rest.
    assert page.caption.height() <= page.caption.heightForWidth(page.caption.width()) + 2
    assert page.scores.height() >= 0.6 * page.height() - 80
    window.close()


SENTENCES = "the cat sat on the mat.\nstocks fell sharply today.\na cat was sitting on a mat.\nmarkets dropped."


def test_sentence_view_pooling_and_order(qtbot, tab: Tab, bundle: Bundle) -> None:
    from bertdesk.core.similarity.cosine import order_by_similarity, sentence_similarity

    page = tab.sentence_page
    tab.views.setCurrentWidget(page)
    tab.text_edit.setPlainText(SENTENCES)
    qtbot.waitUntil(lambda: tab.analysis is not None and tab.analysis.sentence_matrix is not None
                    and not tab.is_busy(), timeout=20000)
    assert tab.jobs[-1] is not threading.main_thread()
    lines = SENTENCES.splitlines()
    expected = sentence_similarity(bundle, lines).matrix
    drawn = page.heatmap.matrix()
    np.testing.assert_allclose(drawn.values, expected, atol=1e-5)
    assert drawn.row_labels[0] == "1. the cat sat on the mat."
    assert "Most similar pairs" in page.pairs.text()
    runs = len(tab.jobs)
    page.reorder.click()
    order = order_by_similarity(expected)
    np.testing.assert_allclose(page.heatmap.matrix().values, expected[np.ix_(order, order)], atol=1e-5)
    assert len(tab.jobs) == runs, "reordering reuses the matrix"
    page.pooling_box.setCurrentIndex(page.pooling_box.findData("cls"))
    qtbot.waitUntil(lambda: tab.analysis.sentence_pooling == "cls" and not tab.is_busy(), timeout=20000)
    assert len(tab.jobs) == runs + 1
    cls = sentence_similarity(bundle, lines, pooling="cls").matrix
    order = order_by_similarity(cls)
    np.testing.assert_allclose(page.heatmap.matrix().values, cls[np.ix_(order, order)], atol=1e-5)
    tab.text_edit.setPlainText("only one line without an end")
    qtbot.waitUntil(lambda: tab.analysis.text.startswith("only") and not tab.is_busy(), timeout=20000)
    assert page.heatmap.matrix() is None and "two or more sentences" in page.note.text()


def test_word_in_context_cls_and_neighbours(qtbot, tab: Tab, bundle: Bundle) -> None:
    from bertdesk.core.similarity.cosine import cls_attention_by_layer, cls_cosine_by_layer, contextual_neighbours
    from bertdesk.core.similarity.graph_weights import graph_weights

    typed(qtbot, tab)
    runs = len(tab.jobs)
    forward = run_forward(bundle, TEXT)
    page = tab.word_page
    tab.views.setCurrentWidget(page)
    banks = [i for i, piece in enumerate(forward.pieces) if piece == "bank"]
    assert [page.first.currentData(), page.second.currentData()] == banks, "the longest repeated word: bank"
    first, second = [i for i, piece in enumerate(forward.pieces) if piece == "bank"]
    page.first.setCurrentIndex(first)
    page.second.setCurrentIndex(second)
    page.other.setCurrentIndex(5)
    series = page.curves.curves().series
    same, different = f"bank #{first} · bank #{second}", f"bank #{first} · {forward.pieces[5]} #5"
    assert list(series) == [same, different]
    np.testing.assert_allclose(series[same], cosine_by_layer(forward, first, second), atol=1e-6)
    np.testing.assert_allclose(series[different], cosine_by_layer(forward, first, 5), atol=1e-6)
    cosines = cosine_by_layer(forward, first, second)
    assert f"Here the two “bank” start at cosine {cosines[0]:.2f}" in page.caption.text()
    assert f"{cosines[-1]:.2f} after the last layer" in page.caption.text()  # what the plot shows, from its numbers

    tab.views.setCurrentWidget(tab.cls_page)
    np.testing.assert_allclose(tab.cls_page.cosine.matrix().values, cls_cosine_by_layer(forward).T, atol=1e-6)
    attention = tab.cls_page.attention.matrix()
    np.testing.assert_allclose(attention.values, cls_attention_by_layer(forward).T, atol=1e-6)
    assert list(attention.row_labels) == forward.pieces and len(attention.col_labels) == bundle.info.num_layers

    page = tab.neighbours_page
    tab.views.setCurrentWidget(page)
    page.token.setCurrentIndex(first)
    page.count.setValue(4)
    page.layer.slider.setValue(1)
    bars = page.contextual.bars()
    found = contextual_neighbours(forward, 1, first, 4)
    assert list(bars.labels) == [f"#{i} {forward.pieces[i]}" for i, _ in found]
    np.testing.assert_allclose(bars.values, [c for _, c in found], atol=1e-6)
    table = graph_weights(bundle).word_embeddings
    bank = bundle.tokenizer.token_to_id("bank")
    norms = np.linalg.norm(table, axis=1) * np.linalg.norm(table[bank])
    scores = np.where(norms > 0, table @ table[bank] / np.where(norms > 0, norms, 1), -np.inf)  # zero rows: nothing
    scores[bank] = -np.inf
    vocabulary = page.vocabulary.bars()
    np.testing.assert_allclose(vocabulary.values, np.sort(scores)[::-1][:4], atol=1e-5)
    assert len(tab.jobs) == runs, "these views draw from the cached pass"


def test_projection_and_the_heads_overview(qtbot, tab: Tab, bundle: Bundle) -> None:
    from bertdesk.core.similarity.attention import attention_grid

    typed(qtbot, tab)
    runs = len(tab.jobs)
    forward = run_forward(bundle, TEXT)
    page = tab.projection_page
    tab.views.setCurrentWidget(page)
    page.layer.slider.setValue(1)
    vectors = forward.vectors(1).astype(np.float64)
    centred = vectors - vectors.mean(axis=0)
    _, _, directions = np.linalg.svd(centred, full_matrices=False)
    expected = centred @ directions[:2].T
    drawn = page.projection.points
    for axis in range(2):
        sign = np.sign(expected[:, axis] @ drawn[:, axis])
        np.testing.assert_allclose(drawn[:, axis], sign * expected[:, axis], atol=1e-4)
    x, y = page.scatter.getData()
    np.testing.assert_allclose(np.c_[x, y], drawn)
    assert [t.textItem.toPlainText() for t in page.texts] == forward.pieces
    page.hide_special.click()
    assert "[CLS]" not in page.labels and len(page.scatter.getData()[0]) == len(forward.pieces) - 2
    assert page.export_data().columns == ("token", "pc1", "pc2")

    page = tab.overview_page
    tab.views.setCurrentWidget(page)
    np.testing.assert_array_equal(np.isnan(page.grid), np.isnan(attention_grid(forward)))
    np.testing.assert_allclose(np.nan_to_num(page.grid), np.nan_to_num(attention_grid(forward)))
    QApplication.processEvents()
    point = page.plot_widget.mapFromScene(page.cell_center(2, 1))
    qtbot.mouseClick(page.plot_widget.viewport(), Qt.MouseButton.LeftButton, pos=point)
    qtbot.waitUntil(lambda: tab.views.currentWidget() is tab.attention_page, timeout=2000)
    attention = tab.attention_page
    assert (attention.layer.value(), attention.head.currentData()) == (2, 1)
    np.testing.assert_allclose(attention.heatmap.matrix().values, attention_map(forward, 2, 1)[2], atol=1e-6)
    assert len(tab.jobs) == runs


@pytest.mark.parametrize(("same", "said"), [
    ([0.95, 0.6, 0.4, 0.7], "start at cosine 0.95, are furthest apart after layer 2 (0.40), then come back together: "
                            "0.70 after the last layer"),
    ([0.95, 0.8, 0.6], "start at cosine 0.95 and drift apart to 0.60 after the last layer"),
    ([0.5, 0.7, 0.9], "start at cosine 0.50 and come closer to 0.90 after the last layer"),
    ([0.9, 0.5, 0.51], "are furthest apart after layer 1 (0.50), then stay apart: 0.51 after the last layer"),
])
def test_the_word_caption_says_what_its_curve_shows(same: list[float], said: str) -> None:
    from bertdesk.ui.tabs.similarity.texts import word_reading

    reading = word_reading("bank", same, "“bank” and “river”", [0.3, 0.2])
    assert said in reading and reading.endswith("; “bank” and “river” end at 0.20.")

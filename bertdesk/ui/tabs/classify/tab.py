"""The Classify tab: one text (or pair) through a classifier — the model's fine-tuned head, zero-shot labels with
the embedding model, or a few-shot head trained here — with its path, probabilities and why; and batches."""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QPlainTextEdit,
    QRadioButton,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from bertdesk.core.bundles import TASK_CLASSIFICATION, TASK_ENCODER
from bertdesk.core.classify import (
    NONE,
    FewShotHead,
    FewShotScorer,
    HeadClassifier,
    OneText,
    Scorer,
    ZeroShotClassifier,
    classify_one,
    export_head,
    read_examples,
    train_head,
)
from bertdesk.core.errors import BertdeskError
from bertdesk.core.files import models_dir
from bertdesk.core.jobs import JobHandle
from bertdesk.ui.error_text import error_text
from bertdesk.ui.tabs.base import AnalysisTab
from bertdesk.ui.tabs.classify.batch_panel import BatchPanel
from bertdesk.ui.tabs.classify.few_shot_panel import FewShotPanel
from bertdesk.ui.tabs.classify.path_view import PathView
from bertdesk.ui.tabs.classify.texts import FEW_SHOT, FINE_TUNED, HOW_IT_WORKS, METHODS, SAMPLE_TEXT, ZERO_SHOT
from bertdesk.ui.tabs.classify.why_view import WhyView
from bertdesk.ui.tabs.classify.zero_shot_panel import ZeroShotPanel
from bertdesk.ui.widgets import Bars, Explanation, TextBox, wrapped_label
from bertdesk.ui.workers import JobRunner

if TYPE_CHECKING:
    from bertdesk.core.bundles import Bundle, BundleInfo

#: Saved batch lines longer than this are not kept in the settings (the file or the clipboard still has them).
MAX_SAVED_LINES_CHARS = 200_000
MAX_SAVED_EXAMPLES = 500
ONE_TEXT, BATCH = 0, 1
#: The pointer to the model manager's catalogue of classifiers, for a model without a classifier head.
GET_CLASSIFIER = '<a href="catalogue:classification">Get a classifier… (Models → Manage models)</a>'


def has_token_vectors(bundle: Bundle) -> bool:
    """Whether the bundle's graph gives token vectors (zero-shot and few-shot need them)."""
    return "last_hidden_state" in bundle.info.outputs


#: What the training runner's jobs return: a head trained with its model, or the folder of a head saved as a bundle.
TrainOutcome = tuple["Bundle", FewShotHead] | Path


class ClassifyTab(AnalysisTab[OneText, None]):
    """Classify a text with a fine-tuned head, zero-shot labels or a few-shot head; see the path and why."""

    key = "classify"
    title = "Classify"
    serves = frozenset({TASK_CLASSIFICATION, TASK_ENCODER})
    running_text = "classifying"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._head: FewShotHead | None = None
        self._head_bundle: Bundle | None = None
        self._head_stale = ""
        self._saved_path: str | None = None
        self._result: OneText | None = None
        self.train_runner: JobRunner[TrainOutcome, None] = JobRunner(self)
        self._build()
        self.add_runner(self.train_runner)
        self.add_runner(self.batch.runner)
        self._connect()
        self._set_method(FINE_TUNED)
        self._update_methods()

    # --- construction --------------------------------------------------------------------------------------

    def _build(self) -> None:
        self.method_group = QButtonGroup(self)
        self.method_buttons: dict[str, QRadioButton] = {}
        methods_row = QHBoxLayout()
        methods_row.addWidget(QLabel("Classifier:", self))
        for method, text in METHODS.items():
            button = QRadioButton(text, self)
            button.setObjectName(f"classify-method-{method}")
            self.method_group.addButton(button)
            self.method_buttons[method] = button
            methods_row.addWidget(button)
        self.availability = wrapped_label(self, name="classify-availability")
        self.availability.setTextFormat(Qt.TextFormat.RichText)
        self.availability.linkActivated.connect(lambda _link: self.request_model_manager(TASK_CLASSIFICATION))
        methods_row.addWidget(self.availability, 1)

        self.fine_tuned_info = QLabel(self)
        self.fine_tuned_info.setWordWrap(True)
        self.fine_tuned_info.setTextFormat(Qt.TextFormat.RichText)
        self.fine_tuned_info.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.zero_shot = ZeroShotPanel(self)
        self.few_shot = FewShotPanel(self)
        self.settings = QStackedWidget(self)
        self.settings.addWidget(self.fine_tuned_info)
        self.settings.addWidget(self.zero_shot)
        self.settings.addWidget(self.few_shot)

        # One text: inputs, the path, the bars and why.
        self.text_edit = TextBox(self)
        self.text_edit.setObjectName("classify-text")
        self.text_edit.setPlaceholderText("Type or paste a text to classify…")
        self.text_edit.setPlainText(SAMPLE_TEXT)
        self.pair_edit = TextBox(self)
        self.pair_edit.setObjectName("classify-pair")
        self.pair_edit.setPlaceholderText("Segment B: the second text of a pair task (entailment, paraphrase…)")
        for edit in (self.text_edit, self.pair_edit):
            edit.setTabChangesFocus(True)
            edit.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.pair_check = QCheckBox("Pair (A/B)", self)
        self.pair_check.setToolTip("Classify two texts together, [CLS] A [SEP] B [SEP], for pair tasks "
                                   "(a fine-tuned head trained on pairs)")
        self.why_check = QCheckBox("Why this label", self)
        self.why_check.setChecked(True)
        self.why_check.setToolTip("Mask each word in turn and measure the drop of the label's probability")
        self.pair_box = QWidget(self)
        pair_layout = QVBoxLayout(self.pair_box)
        pair_layout.setContentsMargins(0, 0, 0, 0)
        pair_layout.addWidget(QLabel("Segment B", self.pair_box))
        pair_layout.addWidget(self.pair_edit)
        self.text_label = QLabel("Text", self)
        inputs = QWidget(self)
        inputs_layout = QHBoxLayout(inputs)
        inputs_layout.setContentsMargins(0, 0, 0, 0)
        text_box = QVBoxLayout()
        text_header = QHBoxLayout()
        text_header.addWidget(self.text_label)
        text_header.addStretch(1)
        text_header.addWidget(self.pair_check)
        text_header.addWidget(self.why_check)
        text_box.addLayout(text_header)
        text_box.addWidget(self.text_edit)
        inputs_layout.addLayout(text_box, 1)
        inputs_layout.addWidget(self.pair_box, 1)

        self.path_view = PathView(self)
        self.bars = Bars(self, placeholder="The probability of every label appears here.")
        self.bars.setMinimumHeight(120)
        self.why = WhyView(self)
        results = QSplitter(Qt.Orientation.Horizontal, self)
        results.addWidget(self.bars)
        results.addWidget(self.why)
        results.setChildrenCollapsible(False)
        results.setStretchFactor(0, 1)
        results.setStretchFactor(1, 1)
        self.message = wrapped_label(self, name="classify-message")
        self.message.hide()
        one = QWidget(self)
        one_layout = QVBoxLayout(one)
        one_layout.setContentsMargins(4, 4, 4, 4)
        one_splitter = QSplitter(Qt.Orientation.Vertical, one)
        one_splitter.addWidget(inputs)
        result_box = QWidget(one)
        result_layout = QVBoxLayout(result_box)
        result_layout.setContentsMargins(0, 0, 0, 0)
        result_layout.addWidget(self.stale_label)
        result_layout.addWidget(self.message)
        result_layout.addWidget(self.path_view)
        result_layout.addWidget(results, 1)
        one_splitter.addWidget(result_box)
        one_splitter.setChildrenCollapsible(False)
        one_splitter.setStretchFactor(0, 1)
        one_splitter.setStretchFactor(1, 4)
        one_layout.addWidget(one_splitter)

        self.batch = BatchPanel(self)
        self.pages = QTabWidget(self)
        self.pages.setObjectName("classify-pages")
        self.pages.setDocumentMode(True)
        self.pages.addTab(one, "One text")
        self.pages.addTab(self.batch, "Batch")

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.addWidget(self.settings)
        self.splitter.addWidget(self.pages)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 5)
        self.settings.setMinimumWidth(260)

        self.explain = Explanation("How does classification work?", HOW_IT_WORKS, self, ignore_width=True)
        self.explain.label.setObjectName("classify-explanation")

        layout = QVBoxLayout(self)
        layout.addLayout(methods_row)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.explain)
        self._set_pair_mode(False)

    def _connect(self) -> None:
        self.method_group.buttonClicked.connect(self._method_clicked)
        self.text_edit.textChanged.connect(self.input_changed)
        self.pair_edit.textChanged.connect(self.input_changed)
        self.pair_check.toggled.connect(self._pair_toggled)
        self.why_check.toggled.connect(lambda _on: self.input_changed())
        self.zero_shot.changed.connect(self._classifier_changed)
        self.few_shot.changed.connect(self._examples_changed)
        self.few_shot.train_requested.connect(self.train)
        self.few_shot.save_requested.connect(self._ask_and_save)
        self.few_shot.load_requested.connect(self.load_examples)
        self.few_shot.switch_button.clicked.connect(self._switch_to_saved)
        self.batch.run_button.clicked.connect(self.run_batch)
        self.train_runner.started.connect(lambda: self.few_shot.set_training(True))
        self.train_runner.progress.connect(lambda f, _t: self.few_shot.progress.setValue(round(1000 * f)))
        self.train_runner.finished.connect(self._train_finished)
        self.train_runner.errored.connect(self._train_failed)
        self.train_runner.cancelled.connect(lambda: self._train_failed("Cancelled."))

    # --- the classifier ------------------------------------------------------------------------------------

    def method(self) -> str:
        """FINE_TUNED, ZERO_SHOT or FEW_SHOT."""
        return next(m for m, b in self.method_buttons.items() if b.isChecked())

    def set_method(self, method: str) -> None:
        """Choose the classifier (as a click on its button does)."""
        self._set_method(method)
        self._classifier_changed()

    def _set_method(self, method: str) -> None:
        self.method_buttons[method].setChecked(True)
        self.settings.setCurrentIndex(list(METHODS).index(method))
        self.pair_check.setEnabled(method == FINE_TUNED)
        if method != FINE_TUNED and self.pair_check.isChecked():
            self.pair_check.setChecked(False)

    def _method_clicked(self) -> None:
        self.set_method(self.method())

    def method_available(self, method: str, bundle: Bundle | None = None) -> str:
        """"" if `method` can run with the bundle, else why not (one sentence)."""
        bundle = bundle or self.bundle
        if bundle is None:
            return "No model is loaded yet."
        if method == FINE_TUNED:
            if bundle.info.task != TASK_CLASSIFICATION:
                return (f"{bundle.info.name} is an {bundle.info.task} model with no classifier head: use zero-shot "
                        "labels or train a few-shot head, or choose a classification model.")
            return ""
        if not has_token_vectors(bundle):
            return f"{bundle.info.name}'s graph gives no token vectors to compare or train on."
        return ""

    def _update_methods(self) -> None:
        for method, button in self.method_buttons.items():
            why_not = self.method_available(method)
            button.setEnabled(not why_not or self.bundle is None)
            button.setToolTip(why_not)
        bundle = self.bundle
        if bundle is None:
            self.availability.setText("")
            self.fine_tuned_info.setText("The model's own classifier head, once a model is loaded.")
            return
        if bundle.info.task == TASK_CLASSIFICATION:
            labels = ", ".join(bundle.info.labels) or "LABEL_0…"
            self.availability.setText(
                f"{html.escape(bundle.info.name)}: a classifier ({len(bundle.info.labels)} labels).")
            kind = bundle.info.problem_type or "single-label"
            self.fine_tuned_info.setText(
                f"<b>{bundle.info.name}</b> was fine-tuned to pick among its labels: <b>{labels}</b> ({kind}). "
                "Its labels come from the model's config (id2label). Tick <i>Pair (A/B)</i> for a model trained "
                "on text pairs."
            )
        else:
            self.availability.setText(
                f"{html.escape(bundle.info.name)} is an embedding model: it has no classifier head, so use zero-shot "
                f"labels or train a few-shot head here. {GET_CLASSIFIER}"
            )
            self.fine_tuned_info.setText(self.method_available(FINE_TUNED))

    def _classifier_changed(self) -> None:
        self.batch.mark_changed("the classifier changed")
        self.input_changed()

    def _examples_changed(self) -> None:
        if self._head is not None:
            self._head_stale = "the examples changed since training"
            self._show_head()
        self.state_changed.emit()

    def make_scorer(self) -> Callable[[JobHandle], Scorer]:
        """A function building the chosen classifier on a worker thread, from the settings as they are now.

        Raises BertdeskError when the classifier cannot run (no head trained, the model has no head).
        """
        bundle, method = self.bundle, self.method()
        if bundle is None:
            raise BertdeskError("No model is loaded yet.")
        why_not = self.method_available(method)
        if why_not:
            raise BertdeskError(why_not)
        if method == FINE_TUNED:
            return lambda handle: HeadClassifier(bundle)
        if method == ZERO_SHOT:
            labels, template, temperature = self.zero_shot.labels(), self.zero_shot.template.text(), \
                self.zero_shot.temperature()
            return lambda handle: ZeroShotClassifier(bundle, labels, template=template, temperature=temperature,
                                                     handle=handle)
        head = self._head
        if head is None or self._head_bundle is not bundle:
            raise BertdeskError("Train the few-shot head first (Train, on the left).")
        return lambda handle: FewShotScorer(bundle, head)

    # --- AnalysisTab ---------------------------------------------------------------------------------------

    def model_fits(self, bundle: Bundle) -> bool:
        """A classifier, or any model whose graph gives token vectors (zero-shot and few-shot)."""
        return bundle.info.task == TASK_CLASSIFICATION or has_token_vectors(bundle)

    def set_bundle(self, bundle: Bundle, infos: list[BundleInfo] | None = None) -> None:
        """Use `bundle`: its head if it has one, else zero-shot (an embedding model is never an error here)."""
        super().set_bundle(bundle, infos)
        method = self.method()
        if bundle.info.task == TASK_CLASSIFICATION:
            self._set_method(FINE_TUNED)
        elif self.method_available(method):
            fallback = next((m for m in METHODS if not self.method_available(m)), None)
            if fallback is not None:
                self._set_method(fallback)
        if self._head is not None and self._head_bundle is not bundle:
            self._head_stale = "it was trained with another model; train it again"
        self._update_methods()
        self._show_head()
        self.batch.mark_changed("the model changed")

    def run_analysis(self) -> None:
        """Classify the text (and pair) with the chosen classifier, and explain it, on a worker thread."""
        text = self.text_edit.toPlainText()
        pair = self.pair_edit.toPlainText() if self.pair_check.isChecked() else None
        if not text.strip():
            self._show_message("Type a text to classify.")
            self._clear_result()
            return
        try:
            make_scorer = self.make_scorer()
        except BertdeskError as exc:
            self._show_message(error_text(exc))
            self._clear_result()
            return
        why = self.why_check.isChecked()

        def job(handle: JobHandle) -> OneText:
            scorer = make_scorer(handle.sub(0.0, 0.2))
            return classify_one(scorer, text, pair or None, why=why, handle=handle.sub(0.2, 1.0))

        self.submit(job, "classify")

    def on_result(self, result: OneText) -> None:
        """Show the probabilities, the path with this text's numbers, and why."""
        self._result = result
        self._show_message("")
        row = result.row
        kind = "score" if row.method == NONE else "probability"
        title = {"sigmoid": "each label on its own (sigmoid)", "softmax": "softmax", "none": "regression score",
                 "zero-shot": "softmax of cosine ÷ T"}.get(row.method, row.method)
        self.bars.set_bars([s.label for s in row.scores], [s.probability for s in row.scores], kind,
                           f"{row.top.label} — {title}")
        self.path_view.set_path(result.path, row)
        if result.explanation is not None:
            self.why.set_explanation(result.explanation)
        else:
            self.why.clear("Tick “Why this label” to see which words the label rests on.")

    def on_error(self, message: str) -> None:
        """Say what went wrong in place of the result, and in the status bar."""
        self._show_message(message)
        self._clear_result()
        self.status_message.emit(message)

    def set_input_text(self, text: str, into: QWidget | None = None) -> bool:
        """Pasted or dropped text goes to the batch lines on the Batch page, else to segment B if dropped on it
        (or last focused in pair mode), else to the text."""
        if self.pages.currentIndex() == BATCH:
            edit: QPlainTextEdit = self.batch.lines
            self.batch.set_file(None)
        elif self.pair_check.isChecked() and into is not None and (into is self.pair_edit or
                                                                     self.pair_edit.isAncestorOf(into)):
            edit = self.pair_edit
        else:
            edit = self.text_edit
        edit.selectAll()
        edit.insertPlainText(text)
        return True

    def save_state(self) -> dict:
        """Inputs, the classifier and its settings, the examples, the batch lines (if not huge)."""
        lines = self.batch.lines.toPlainText()
        return {
            "text": self.text_edit.toPlainText(),
            "pair": self.pair_edit.toPlainText(),
            "pair_mode": self.pair_check.isChecked(),
            "why": self.why_check.isChecked(),
            "method": self.method(),
            "labels": [list(label) for label in self.zero_shot.labels()],
            "template": self.zero_shot.template.text(),
            "temperature": self.zero_shot.temperature(),
            "examples": [list(e) for e in self.few_shot.examples()[:MAX_SAVED_EXAMPLES]],
            "pooling": self.few_shot.pooling_key(),
            "page": self.pages.currentIndex(),
            "lines": lines if len(lines) <= MAX_SAVED_LINES_CHARS else "",
        }

    def restore_state(self, state: dict) -> None:
        """Restore what `save_state()` kept; malformed entries are ignored."""
        if not isinstance(state, dict):
            return

        def pairs(value: object) -> list[tuple[str, str]] | None:
            if not isinstance(value, list) or not all(
                isinstance(v, list) and len(v) == 2 and all(isinstance(x, str) for x in v) for v in value
            ):
                return None
            return [(a, b) for a, b in value]

        for key, edit in (("text", self.text_edit), ("pair", self.pair_edit), ("lines", self.batch.lines)):
            if isinstance(state.get(key), str):
                edit.setPlainText(state[key])
        if isinstance(state.get("why"), bool):
            self.why_check.setChecked(state["why"])
        if (labels := pairs(state.get("labels"))) is not None:
            self.zero_shot.set_labels(labels)
        if isinstance(state.get("template"), str):
            self.zero_shot.template.setText(state["template"])
        if isinstance(state.get("temperature"), int | float) and state["temperature"] > 0:
            self.zero_shot.set_temperature(float(state["temperature"]))
        if (examples := pairs(state.get("examples"))) is not None:
            self.few_shot.set_examples(examples)
        if state.get("pooling") in ("mean", "cls"):
            self.few_shot.pooling.setCurrentIndex(self.few_shot.pooling.findData(state["pooling"]))
        if state.get("method") in METHODS:
            self._set_method(state["method"])
        if isinstance(state.get("pair_mode"), bool):
            self.pair_check.setChecked(state["pair_mode"] and self.pair_check.isEnabled())
        if state.get("page") in (ONE_TEXT, BATCH):
            self.pages.setCurrentIndex(state["page"])

    # --- the one text --------------------------------------------------------------------------------------

    def result(self) -> OneText | None:
        """The classification shown, if any."""
        return self._result

    def _show_message(self, message: str) -> None:
        self.message.setText(message)
        self.message.setVisible(bool(message))

    def _clear_result(self) -> None:
        self._result = None
        self.bars.clear()
        self.why.clear()
        self.path_view.set_path(None)

    def _pair_toggled(self, on: bool) -> None:
        self._set_pair_mode(on)
        self.input_changed()

    def _set_pair_mode(self, on: bool) -> None:
        self.pair_box.setVisible(on)
        self.text_label.setText("Segment A" if on else "Text")

    # --- few-shot ------------------------------------------------------------------------------------------

    def load_examples(self, path: str) -> None:
        """Replace the examples with those of a CSV file (text,label); a bad file is one message."""
        try:
            examples = read_examples(path)
        except BertdeskError as exc:
            self.few_shot.report.setText(error_text(exc))
            self.status_message.emit(error_text(exc))
            return
        self.few_shot.set_examples([(e.text, e.label) for e in examples])
        self.status_message.emit(f"Loaded {len(examples)} examples from {Path(path).name}")

    def train(self) -> None:
        """Train a head on the examples with the current model, on the training runner."""
        bundle = self.bundle
        if bundle is None or not has_token_vectors(bundle):
            self.few_shot.report.setText(self.method_available(FEW_SHOT) or "No model is loaded yet.")
            return
        examples, pooling = self.few_shot.examples(), self.few_shot.pooling_key()
        self.few_shot.switch_button.hide()
        self.train_runner.submit(lambda handle: (bundle, train_head(bundle, examples, pooling=pooling,
                                                                    handle=handle)), "train a head")

    def head(self) -> FewShotHead | None:
        """The few-shot head trained here, if any."""
        return self._head

    def _train_finished(self, result: TrainOutcome) -> None:
        self.few_shot.set_training(False)
        if isinstance(result, Path):  # a saved bundle
            self._saved_path = str(result)
            message = f"Saved as {result.name} in {result.parent}: it is in the Model list now."
            self.few_shot.report.setText(message)
            self.few_shot.switch_button.setVisible(hasattr(self.window(), "load_model"))
            self.status_message.emit(message)
            self.models_changed.emit()
            return
        bundle, head = result
        self._head, self._head_bundle, self._head_stale = head, bundle, ""
        self._show_head()
        self.batch.mark_changed("the head was trained again")
        if self.method() == FEW_SHOT:
            self.input_changed()
        else:
            self.set_method(FEW_SHOT)

    def _train_failed(self, message: str) -> None:
        self.few_shot.set_training(False)
        self._show_head()
        self.few_shot.report.setText(message)
        self.status_message.emit(message)

    def _show_head(self) -> None:
        bundle = self.bundle
        can_save = bundle is not None and bundle.info.task == TASK_ENCODER
        self.few_shot.show_head(self._head, can_save=can_save, stale=self._head_stale)

    def _ask_and_save(self) -> None:
        name, ok = QInputDialog.getText(self, "Save as model", "Name of the new model (a folder in the models "
                                        "folder):", text=self._suggested_name())
        if ok and name.strip():
            self.save_head(name.strip())

    def _suggested_name(self) -> str:
        labels = "-".join(self._head.labels[:3]) if self._head else "head"
        base = f"{self.bundle.info.name}-{labels}" if self.bundle else labels
        return "".join(c if c.isalnum() or c in "-_." else "-" for c in base)[:80]

    def save_head(self, name: str) -> None:
        """Save the trained head with its encoder as the bundle `name` in the models folder (on a worker)."""
        head, bundle = self._head, self._head_bundle
        if head is None or bundle is None:
            self.few_shot.report.setText("Train the head first.")
            return
        if not name or any(c in name for c in '/\\:\0') or name in (".", ".."):
            self.few_shot.report.setText(f"{name!r} cannot be a folder name: use letters, digits, - and _.")
            return
        self.train_runner.submit(lambda handle: export_head(bundle, head, models_dir() / name, handle=handle),
                                 "save the head")

    def saved_path(self) -> str | None:
        """The folder of the bundle saved last, if any."""
        return self._saved_path

    def _switch_to_saved(self) -> None:
        window = self.window()
        if self._saved_path and hasattr(window, "load_model"):
            window.load_model(self._saved_path)

    # --- batch ---------------------------------------------------------------------------------------------

    def run_batch(self) -> None:
        """Classify every line (or the file's rows) with the chosen classifier."""
        try:
            make_scorer = self.make_scorer()
        except BertdeskError as exc:
            self.batch.rate.setText(error_text(exc))
            return
        self.batch.run(make_scorer)

    # --- jobs ----------------------------------------------------------------------------------------------

    def cancel(self) -> bool:
        """Cancel the job of the page on show (the batch on the Batch page), else any job under way (the
        classification's, the training's, the batch's)."""
        if self.pages.currentIndex() == BATCH and self.batch.cancel():
            return True
        return super().cancel()

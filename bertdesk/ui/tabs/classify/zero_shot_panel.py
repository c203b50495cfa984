"""The zero-shot settings: labels (each with an optional description), the sentence template and the temperature."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from bertdesk.core.classify import DEFAULT_TEMPERATURE, DEFAULT_TEMPLATE
from bertdesk.ui.tabs.classify.pair_table import PairTable
from bertdesk.ui.tabs.classify.texts import SAMPLE_LABELS, ZERO_SHOT_NOTE
from bertdesk.ui.widgets import wrapped_label

#: The temperature slider runs over a log scale between these.
MIN_TEMPERATURE, MAX_TEMPERATURE = 0.005, 1.0
SLIDER_STEPS = 100


def slider_to_temperature(position: int) -> float:
    """The temperature at a slider position (log scale, 3 significant digits)."""
    ratio = math.log(MAX_TEMPERATURE / MIN_TEMPERATURE)
    return float(f"{MIN_TEMPERATURE * math.exp(ratio * position / SLIDER_STEPS):.3g}")


def temperature_to_slider(temperature: float) -> int:
    """The slider position nearest a temperature."""
    temperature = min(max(temperature, MIN_TEMPERATURE), MAX_TEMPERATURE)
    ratio = math.log(MAX_TEMPERATURE / MIN_TEMPERATURE)
    return round(SLIDER_STEPS * math.log(temperature / MIN_TEMPERATURE) / ratio)


class ZeroShotPanel(QWidget):
    """Labels table (label, description), template and temperature; `changed` on every edit."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        note = wrapped_label(self, ZERO_SHOT_NOTE)
        self.table = PairTable("classify-zero-shot-labels", ("Label", "Description (optional)"), 1, self)
        self.table.setToolTip("One label per row. A description is added after the label's sentence to sharpen it.")
        add = QPushButton("Add label", self)
        remove = QPushButton("Remove", self)
        remove.setToolTip("Remove the selected labels")
        self.template = QLineEdit(DEFAULT_TEMPLATE, self)
        self.template.setObjectName("classify-template")
        self.template.setToolTip("Each label's sentence: {label} is replaced by the label's name")
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setObjectName("classify-temperature")
        self.slider.setRange(0, SLIDER_STEPS)
        self.slider.setToolTip("Softmax of cosine ÷ temperature: lower is sharper, higher is flatter")
        self._temperature = DEFAULT_TEMPERATURE  # exact until the slider moves (its steps are log-spaced)
        self.temperature_label = QLabel(self)
        self.temperature_label.setMinimumWidth(self.fontMetrics().horizontalAdvance("T = 0.000") + 4)
        buttons = QHBoxLayout()
        buttons.addWidget(add)
        buttons.addWidget(remove)
        buttons.addStretch(1)
        slider_row = QHBoxLayout()
        slider_row.addWidget(self.slider, 1)
        slider_row.addWidget(self.temperature_label)
        form = QFormLayout()
        form.addRow("Template", self.template)
        form.addRow("Temperature", slider_row)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(note)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        layout.addLayout(form)

        self.set_labels(SAMPLE_LABELS)
        self.set_temperature(DEFAULT_TEMPERATURE)
        add.clicked.connect(self.table.add_row)
        remove.clicked.connect(self.table.remove_selected)
        self.table.edited.connect(self.changed)
        self.template.textChanged.connect(lambda _text: self.changed.emit())
        self.slider.valueChanged.connect(self._slid)

    def labels(self) -> list[tuple[str, str]]:
        """(label, description) of every row with a label."""
        return [(name.strip(), description.strip()) for name, description in self.table.pairs() if name.strip()]

    def set_labels(self, labels: list[tuple[str, str]]) -> None:
        """Replace the labels."""
        self.table.set_pairs(labels)

    def temperature(self) -> float:
        """The temperature set."""
        return self._temperature

    def set_temperature(self, temperature: float) -> None:
        """Set the temperature (the slider moves to the nearest step)."""
        self.slider.blockSignals(True)
        self.slider.setValue(temperature_to_slider(temperature))
        self.slider.blockSignals(False)
        self._temperature = float(temperature)
        self._show_temperature()

    def _slid(self) -> None:
        self._temperature = slider_to_temperature(self.slider.value())
        self._show_temperature()

    def _show_temperature(self) -> None:
        self.temperature_label.setText(f"T = {self.temperature():.3g}")
        self.changed.emit()

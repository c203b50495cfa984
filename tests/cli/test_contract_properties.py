"""The CLI's contract under generated hostile input: exit 0 with valid JSON, or exit 2 with one line on stderr.

Every command runs in-process through `bertdesk.cli.main` with real files as stdin/stdout/stderr, on real models:
the default model for text inputs, copies of a tiny converted bundle and a tiny checkpoint damaged by hypothesis for
the bundle and checkpoint inputs. Input files must come out unchanged. `HYPOTHESIS_PROFILE=soak` runs many more
examples for a manual soak; CI uses the bounded default profile.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bertdesk.cli import main

common = settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Text as users and attackers type it: any code point, lone surrogates (how undecodable argv bytes arrive), control
# characters, long runs of one character, right-to-left marks and combining accents.
SURROGATES = st.characters(min_codepoint=0xDC80, max_codepoint=0xDCFF)
texts = st.one_of(
    st.text(max_size=200),
    st.text(alphabet=st.one_of(st.characters(), SURROGATES), max_size=60),
    st.text(alphabet=st.characters(max_codepoint=0x1F), max_size=40),
    st.sampled_from(["", " ", "\n", "-", "--", "--json", "\u202e\u0301", "\x00", "[CLS] [SEP] [PAD]", "café です"]),
    st.builds(lambda c, n: c * n, st.sampled_from(["a", "x ", "日", "😀", "\u0301", ". "]), st.integers(1, 3000)),
)
numbers = st.one_of(
    st.integers(-(10**20), 10**20).map(str),
    st.sampled_from(["", "abc", "1e3", "nan", "-0", "0x10", "٣", "1_000", " 2", "inf"]),
)
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(), st.text(max_size=20)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12,
)


@contextlib.contextmanager
def _std_streams(stdin: bytes) -> Iterator[tuple[io.TextIOWrapper, io.TextIOWrapper]]:
    """Real files (with file descriptors) as the process's text streams, as a shell would give them."""
    with tempfile.TemporaryDirectory() as folder:
        paths = [Path(folder, name) for name in ("in", "out", "err")]
        paths[0].write_bytes(stdin)
        files = [open(p, "r" if i == 0 else "w+", encoding="utf-8", newline="") for i, p in enumerate(paths)]  # noqa: SIM115
        saved = sys.stdin, sys.stdout, sys.stderr
        sys.stdin, sys.stdout, sys.stderr = files
        try:
            yield files[1], files[2]
        finally:
            sys.stdin, sys.stdout, sys.stderr = saved
            for f in files:
                f.close()


def run_cli(argv: list[str], stdin: bytes = b"") -> tuple[int, str, str]:
    """Run `python -m bertdesk ARGV` in-process; returns (exit code, stdout, stderr)."""
    with _std_streams(stdin) as (out, err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse exits by itself
            code = exc.code if isinstance(exc.code, int) else 1
        out.flush()
        err.flush()
        out.seek(0)
        err.seek(0)
        return code, out.read(), err.read()


PROGRESS = re.compile(r"^\[\s*\d+%\] ")


def assert_contract(argv: list[str], code: int, out: str, err: str) -> None:
    """Exit 0 with JSON on stdout, or exit 2 with exactly one line on stderr (besides progress lines such as
    `[ 40%] reading weights`); never a traceback."""
    assert "Traceback" not in err, f"{argv!r} printed a traceback:\n{err}"
    if code == 0:
        json.loads(out)
    else:
        assert code == 2, f"{argv!r} exited {code}: {err!r}"
        lines = [line for line in err.strip().splitlines() if not PROGRESS.match(line)]
        assert len(lines) == 1, f"{argv!r}: a user error must be one line, got {len(lines)}: {err!r}"
        assert lines[0].startswith("bertdesk: error: "), lines[0]


def tree_digest(root: Path) -> dict[str, str]:
    """Every file under `root` with its content hash (the 'nothing changed' check)."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


# --- text commands on the default model ----------------------------------------------------------------------


@common
@given(text=texts, pair=st.one_of(st.none(), texts))
def test_tokenize_any_text(default_bundle_dir: Path, text: str, pair: str | None) -> None:
    argv = ["tokenize", text, "--json", "--model", str(default_bundle_dir)]
    if pair is not None:
        argv += [f"--pair={pair}"]
    assert_contract(argv, *run_cli(argv))


@common
@given(data=st.binary(max_size=400))
def test_tokenize_any_bytes_on_stdin(default_bundle_dir: Path, data: bytes) -> None:
    argv = ["tokenize", "-", "--json", "--model", str(default_bundle_dir)]
    assert_contract(argv, *run_cli(argv, stdin=data))


@common
@given(
    items=st.lists(texts, min_size=1, max_size=4),
    layer=st.one_of(st.none(), numbers),
    pool=st.one_of(st.none(), st.sampled_from(["cls", "mean", "max", ""])),
)
def test_embed_any_text_and_options(default_bundle_dir: Path, items: list[str], layer: str | None,
                                    pool: str | None) -> None:
    argv = ["embed", "--json", "--model", str(default_bundle_dir)]
    argv += [f"--layer={layer}"] if layer is not None else []
    argv += [f"--pool={pool}"] if pool is not None else []
    argv += ["--", *items]
    assert_contract(argv, *run_cli(argv))


@common
@given(
    mode=st.sampled_from(["--tokens", "--sentences"]),
    items=st.lists(texts, min_size=1, max_size=5),
    layer=st.one_of(st.none(), numbers),
)
def test_similarity_any_text_and_options(default_bundle_dir: Path, mode: str, items: list[str],
                                         layer: str | None) -> None:
    argv = ["similarity", "--json", "--model", str(default_bundle_dir)]
    argv += [f"--layer={layer}"] if layer is not None else []
    argv += [f"{mode}={items[0]}"] if mode == "--tokens" else [mode, "--", *items]
    assert_contract(argv, *run_cli(argv))


@common
@given(argv=st.lists(st.one_of(texts, st.sampled_from(
    ["tokenize", "embed", "similarity", "convert", "setup", "models", "qa", "classify", "--question", "--context",
     "--labels", "--json", "--layer", "--pool", "--model",
     "--pair", "--sentences", "--tokens", "--force", "--wheel", "--verify", "-h"])), max_size=6))
def test_any_argument_list(argv: list[str]) -> None:
    if "-h" in argv or "--help" in argv or any(a.startswith("--h") and "--help".startswith(a) for a in argv):
        return  # help prints usage and exits 0 by design
    if any(a in ("setup", "convert") for a in argv):
        return  # covered below on throwaway folders; never on the real models folder
    code, out, err = run_cli(argv)
    assert "Traceback" not in err
    assert code in (0, 2), (argv, code, err)
    if code == 2:
        assert len([line for line in err.strip().splitlines() if not PROGRESS.match(line)]) == 1, (argv, err)


# --- damaged bundles -----------------------------------------------------------------------------------------

CONFIG_FIELDS = [
    "architectures", "model_type", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
    "max_position_embeddings", "vocab_size", "type_vocab_size", "id2label", "label2id", "hidden_act",
    "layer_norm_eps", "problem_type", "dim", "n_layers", "n_heads",
]
BUNDLE_FILES = ["config.json", "bertdesk.json", "tokenizer.json", "model.onnx"]


@st.composite
def bundle_damage(draw: st.DrawFn) -> tuple[str, str, object]:
    """One way to damage a bundle: a config field set to any JSON value, a file truncated, overwritten or deleted."""
    kind = draw(st.sampled_from(["field", "truncate", "garbage", "delete", "json"]))
    if kind == "field":
        name = draw(st.sampled_from(["config.json", "bertdesk.json"]))
        key = draw(st.sampled_from(CONFIG_FIELDS if name == "config.json" else ["pooling", "normalize", "task",
                                                                                  "internals", "format"]))
        return kind, name, (key, draw(json_values))
    name = draw(st.sampled_from(BUNDLE_FILES))
    if kind == "truncate":
        return kind, name, draw(st.floats(0, 0.999))
    if kind == "garbage":
        return kind, name, draw(st.binary(max_size=64))
    if kind == "json":
        return kind, name, draw(json_values)
    return kind, name, None


def damage(folder: Path, how: tuple[str, str, object]) -> None:
    """Apply `bundle_damage` to a bundle folder."""
    kind, name, value = how
    path = folder / name
    if kind == "field":
        key, new = value
        data = json.loads(path.read_text(encoding="utf-8"))
        data[key] = new
        path.write_text(json.dumps(data), encoding="utf-8")
    elif kind == "truncate":
        data = path.read_bytes()
        path.write_bytes(data[: int(len(data) * value)])
    elif kind == "garbage":
        path.write_bytes(value)
    elif kind == "json":
        path.write_text(json.dumps(value), encoding="utf-8")
    else:
        path.unlink()


@common
@given(how=bundle_damage(), command=st.sampled_from(["models", "tokenize", "embed", "similarity"]))
def test_damaged_bundle(tiny_bundle: Path, tmp_path_factory: pytest.TempPathFactory,
                        how: tuple[str, str, object], command: str) -> None:
    models = tmp_path_factory.mktemp("models")
    good, bad = models / "good", models / "bad"
    shutil.copytree(tiny_bundle, good)
    shutil.copytree(tiny_bundle, bad)
    damage(bad, how)
    before = tree_digest(models)
    saved = os.environ.get("BERTDESK_MODELS")
    os.environ["BERTDESK_MODELS"] = str(models)
    try:
        if command == "models":
            argv = ["models", "--json"]
        elif command == "similarity":
            argv = ["similarity", "--json", "--model", str(bad), "--layer=1", "--tokens=the bank of the river"]
        else:
            argv = [command, "--json", "--model", str(bad), "--", "the cat sat"]
        code, out, err = run_cli(argv)
    finally:
        if saved is None:
            del os.environ["BERTDESK_MODELS"]
        else:
            os.environ["BERTDESK_MODELS"] = saved
    assert_contract(argv, code, out, err)
    if command == "models":
        listed = [m["path"] for m in json.loads(out)["models"]]
        assert str(good) in listed, f"a damaged neighbour ({how}) hid the good bundle: {out}"
    assert tree_digest(models) == before, "a command changed the user's model files"


# --- damaged checkpoints -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.checkpoints import make_checkpoint

    return make_checkpoint(tmp_path_factory.mktemp("ckpt") / "checkpoint", "bert", "classification")


@st.composite
def checkpoint_damage(draw: st.DrawFn) -> tuple[str, str, object]:
    """A config field set to any JSON value, or the safetensors header/body damaged."""
    kind = draw(st.sampled_from(["field", "header", "truncate", "garbage", "delete"]))
    if kind == "field":
        return kind, "config.json", (draw(st.sampled_from(CONFIG_FIELDS)), draw(json_values))
    name = draw(st.sampled_from(["model.safetensors", "config.json", "tokenizer.json"]))
    if kind == "header":
        return kind, "model.safetensors", draw(json_values)
    if kind == "truncate":
        return kind, name, draw(st.floats(0, 0.999))
    if kind == "garbage":
        return kind, name, draw(st.binary(max_size=64))
    return kind, name, None


def damage_checkpoint(folder: Path, how: tuple[str, str, object]) -> None:
    """Apply `checkpoint_damage`: a new JSON header keeps the tensor bytes that follow it."""
    kind, name, value = how
    if kind != "header":
        damage(folder, how)
        return
    path = folder / name
    data = path.read_bytes()
    size = int.from_bytes(data[:8], "little")
    header = json.dumps(value).encode()
    path.write_bytes(len(header).to_bytes(8, "little") + header + data[8 + size:])


@common
@given(how=checkpoint_damage(), force=st.booleans())
def test_damaged_checkpoint_convert(tiny_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory,
                                    how: tuple[str, str, object], force: bool) -> None:
    work = tmp_path_factory.mktemp("convert")
    source = work / "checkpoint"
    shutil.copytree(tiny_checkpoint, source)
    damage_checkpoint(source, how)
    (work / "keep.txt").write_text("the user's own file")
    before = tree_digest(work)
    out = work / "bundle"
    argv = ["convert", str(source), str(out), "--json"] + (["--force"] if force else [])
    code, stdout, err = run_cli(argv)
    assert_contract(argv, code, stdout, err)
    after = tree_digest(work)
    assert {k: v for k, v in after.items() if not k.startswith("bundle/")} == before, "convert changed its inputs"
    if code == 0:
        from bertdesk.core.bundles.bundle import open_model

        open_model(out).run([[2, 5, 3]])  # a bundle reported as converted must run
    else:
        assert not out.exists(), "a failed convert left a partial bundle behind"


@common
@given(target=st.sampled_from(["source", "parent", "cwd", "inside", "file"]))
def test_force_never_deletes_what_it_did_not_make(tiny_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory,
                                                  target: str) -> None:
    work = tmp_path_factory.mktemp("force")
    source = work / "checkpoint"
    shutil.copytree(tiny_checkpoint, source)
    (work / "keep.txt").write_text("the user's own file")
    out = {"source": source, "parent": source / "..", "cwd": Path("."), "inside": source / "sub",
           "file": work / "keep.txt"}[target]
    before = tree_digest(work)
    cwd = os.getcwd()
    os.chdir(work if target == "cwd" else cwd)
    try:
        argv = ["convert", str(source), str(out), "--force", "--json"]
        code, stdout, err = run_cli(argv)
    finally:
        os.chdir(cwd)
    assert_contract(argv, code, stdout, err)
    after = tree_digest(work)
    assert all(after.get(k) == v for k, v in before.items()), f"convert --force into {target} destroyed files"


# --- question answering ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_qa(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small random-weight BERT question-answering bundle."""
    from bertdesk.core.conversion.convert import convert_checkpoint
    from tests.checkpoints import make_checkpoint

    root = tmp_path_factory.mktemp("contract-qa")
    return convert_checkpoint(make_checkpoint(root / "checkpoint", "bert", "qa"), root / "tiny-qa")


QA_OPTIONS = ("--top-k", "--max-seq-len", "--doc-stride", "--max-answer-len", "--null-threshold")


@common
@given(question=texts, context=texts, options=st.dictionaries(st.sampled_from(QA_OPTIONS), numbers, max_size=3))
@example(question="who sat?", context="the cat sat", options={"--max-answer-len": "99999999999999999999"})
def test_qa_any_text_and_options(tiny_qa: Path, question: str, context: str, options: dict[str, str]) -> None:
    argv = ["qa", "--json", "--model", str(tiny_qa), f"--question={question}", f"--context={context}"]
    argv += [f"{name}={value}" for name, value in options.items()]
    assert_contract(argv, *run_cli(argv))


batch_lines = st.one_of(
    st.builds(lambda q, c, i: json.dumps({"id": i, "question": q, "context": c}), texts, texts, json_values),
    st.builds(json.dumps, json_values),
    st.text(max_size=40),
    st.sampled_from(['{"question": "\\ud800", "context": "x"}', '{"question": "a", "context": "\\udfff b"}',
                     "\ufeff", "{", "[]", "null"]),
)


@common
@given(lines=st.lists(batch_lines, min_size=1, max_size=4), raw=st.booleans())
@example(lines=['{"question": "who \\ud800?", "context": "the cat sat"}'], raw=False)
def test_qa_batch_any_file(tiny_qa: Path, tmp_path_factory: pytest.TempPathFactory, lines: list[str],
                           raw: bool) -> None:
    path = tmp_path_factory.mktemp("batch") / "questions.jsonl"
    text = "\n".join(lines)
    # Written as UTF-8, or with lone surrogates and other undecodable bytes kept as they are.
    path.write_bytes(text.encode("utf-8", "surrogateescape" if raw else "surrogatepass"))
    before = path.read_bytes()
    argv = ["qa", "--json", "--model", str(tiny_qa), "--batch", str(path)]
    code, out, err = run_cli(argv)
    assert "Traceback" not in err, err
    if code == 0:
        for line in out.splitlines():  # one JSON object a line
            json.loads(line)
    else:
        assert_contract(argv, code, out, err)
    assert path.read_bytes() == before

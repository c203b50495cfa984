"""The `qa`, `classify` and `train-head` commands print what the core computes, stream files in order, and keep the
one-line error contract."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bertdesk.core.bundles.bundle import open_model
from bertdesk.core.classify.heads import classify
from bertdesk.core.qa import answer_question
from tests.checkpoints import make_checkpoint
from tests.cli.test_contract_properties import assert_contract, run_cli

CONTEXT = "the cat sat on the mat in paris . the dog played with a good movie in france ."


@pytest.fixture(scope="module")
def tiny_qa_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from bertdesk.core.conversion.convert import convert_checkpoint

    root = tmp_path_factory.mktemp("tiny-qa")
    return convert_checkpoint(make_checkpoint(root / "ckpt", "bert", "qa"), root / "tiny-qa")


def cli_json(argv: list[str]) -> dict:
    code, out, err = run_cli(argv)
    assert code == 0, err
    return json.loads(out)


def test_qa_prints_the_core_answers(tiny_qa_bundle: Path) -> None:
    data = cli_json(["qa", "--model", str(tiny_qa_bundle), "--question", "where is the cat ?", "--context", CONTEXT,
                     "--top-k", "3", "--max-seq-len", "24", "--doc-stride", "8", "--json"])
    expected = answer_question(open_model(tiny_qa_bundle), "where is the cat ?", CONTEXT, top_k=3, max_seq_len=24,
                               doc_stride=8)
    assert data["kind"] == "span_qa"
    assert data["answers"] == json.loads(json.dumps(expected.to_dict()["answers"]))
    assert data["windows_total"] > 1


def test_qa_reads_the_context_from_a_file_in_any_encoding(tiny_qa_bundle: Path, tmp_path: Path) -> None:
    path = tmp_path / "context.txt"
    path.write_bytes(CONTEXT.encode("utf-16"))
    from_file = cli_json(["qa", "--model", str(tiny_qa_bundle), "--question", "where ?", "--context-file", str(path),
                          "--json"])
    inline = cli_json(["qa", "--model", str(tiny_qa_bundle), "--question", "where ?", "--context", CONTEXT, "--json"])
    assert from_file["answers"] == inline["answers"]


def test_qa_batch_answers_every_line_in_order(tiny_qa_bundle: Path, tmp_path: Path) -> None:
    questions = ["where is the cat ?", "what did the dog play ?", "who sat ?", "where is france ?"] * 20
    batch = tmp_path / "batch.jsonl"
    batch.write_text("\n".join(json.dumps({"id": f"q{i}", "question": q, "context": CONTEXT})
                               for i, q in enumerate(questions)) + "\n\n", encoding="utf-8")
    code, out, err = run_cli(["qa", "--model", str(tiny_qa_bundle), "--batch", str(batch), "--json"])
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in rows] == [f"q{i}" for i in range(len(questions))]
    bundle = open_model(tiny_qa_bundle)
    for i in (0, 1, 77):
        assert rows[i]["answers"] == json.loads(json.dumps(
            answer_question(bundle, questions[i], CONTEXT).to_dict()["answers"]))


@pytest.mark.parametrize("line", ["{not json", "[1, 2]", '{"question": "q"}', '{"question": 5, "context": "c"}'])
def test_a_bad_batch_line_is_one_line_naming_it(tiny_qa_bundle: Path, tmp_path: Path, line: str) -> None:
    batch = tmp_path / "batch.jsonl"
    batch.write_text(json.dumps({"question": "who ?", "context": CONTEXT}) + "\n" + line + "\n", encoding="utf-8")
    argv = ["qa", "--model", str(tiny_qa_bundle), "--batch", str(batch), "--json"]
    code, out, err = run_cli(argv)
    assert code == 2
    assert_contract(argv, code, out, err)
    assert "line 2" in err


def test_qa_with_an_embedding_model_is_sentence_retrieval(default_bundle_dir: Path) -> None:
    data = cli_json(["qa", "--model", str(default_bundle_dir), "--question", "Where did the cat sit?",
                     "--context", "Stocks fell sharply. The cat sat on the mat. It rained all day.", "--json"])
    assert data["kind"] == "sentence_retrieval"
    assert data["sentences"][0]["text"] == "The cat sat on the mat."


@pytest.mark.parametrize("argv", [
    ["qa", "--context", "x"],
    ["qa", "--question", "q"],
    ["qa", "--question", "q", "--context", "x", "--context-file", "f.txt"],
    ["qa", "--question", "q", "--context", "x", "--top-k", "0"],
    ["qa", "--question", "q", "--context", "x", "--null-threshold", "nan"],
    ["qa", "--question", "q", "--context-file", "/nonexistent/context.txt"],
    ["classify"],
    ["classify", "x", "--labels", " , "],
    ["classify", "x", "--file", "/nonexistent.csv"],
    ["train-head", "--examples", "/nonexistent.csv", "--out", "/tmp/never-written-head"],
])
def test_task_command_user_errors_are_one_line(argv: list[str]) -> None:
    code, out, err = run_cli(argv)
    assert code == 2
    assert_contract(argv, code, out, err)


def test_classify_prints_the_core_probabilities(tiny_classifier_bundle: Path) -> None:
    texts = ["a good movie", "the bank of the river"]
    data = cli_json(["classify", "--model", str(tiny_classifier_bundle), "--json", *texts])
    expected = classify(open_model(tiny_classifier_bundle), texts).to_dict()
    assert data["results"] == json.loads(json.dumps(expected["results"]))


def test_classify_file_streams_one_line_per_row_in_order(tiny_classifier_bundle: Path, tmp_path: Path) -> None:
    lines = [("a good movie " * (i % 7 + 1)).strip() for i in range(300)]
    path = tmp_path / "texts.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, err = run_cli(["classify", "--model", str(tiny_classifier_bundle), "--file", str(path), "--json"])
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == len(lines)
    single = classify(open_model(tiny_classifier_bundle), [lines[5]]).to_dict()["results"][0]
    assert rows[5]["label"] == single["label"]
    assert rows[5]["probability"] == pytest.approx(single["probability"], abs=1e-5)


def test_zero_shot_labels_on_the_default_model(default_bundle_dir: Path) -> None:
    data = cli_json(["classify", "--model", str(default_bundle_dir), "--labels", "cooking,football",
                     "Whisk the eggs and fold in the flour.", "The striker scored twice in the final.", "--json"])
    assert [r["label"] for r in data["results"]] == ["cooking", "football"]


def test_train_head_saves_a_bundle_that_classifies(tiny_bundle: Path, tmp_path: Path) -> None:
    examples = tmp_path / "examples.csv"
    rows = ["text,label"] + [f"the cat sat {w},animal" for w in ("on the mat", "in paris", "at home", "there")] + [
        f"money in the bank {w},finance" for w in ("today", "again", "now", "later")]
    examples.write_text("\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "head"
    data = cli_json(["train-head", "--model", str(tiny_bundle), "--examples", str(examples), "--out", str(out),
                     "--json"])
    assert Path(data["out"]) == out.resolve()
    result = cli_json(["classify", "--model", str(out), "the cat sat on the mat", "--json"])
    assert result["results"][0]["label"] in ("animal", "finance")


def test_similarity_views_print_the_core_reports(default_bundle_dir: Path) -> None:
    from bertdesk.core.similarity import cosine as similarity
    from bertdesk.core.similarity.positions import positions_report

    bundle = open_model(default_bundle_dir)
    model = ["--model", str(default_bundle_dir), "--json"]
    text = "the bank of the river"
    attention = cli_json(["similarity", "--tokens", text, "--attention", "--layer", "2", "--head", "3", "--causal",
                          *model])
    assert attention == json.loads(json.dumps(similarity.attention_report(bundle, text, layer=2, head=3,
                                                                          causal=True)))
    probabilities = attention["attention"]
    assert all(p == 0.0 for row, values in enumerate(probabilities) for col, p in enumerate(values) if col > row)
    assert cli_json(["similarity", "--positions", "6", *model]) == json.loads(json.dumps(positions_report(bundle, 6)))
    neighbours = cli_json(["similarity", "--neighbours", "bank", "--count", "3", *model])
    assert len(neighbours["neighbours"]) == 3 and neighbours["neighbours"][0]["token"] == "banks"
    causal = cli_json(["similarity", "--tokens", text, "--causal", "--layer", "3", *model])
    bidirectional = cli_json(["similarity", "--tokens", text, "--layer", "3", *model])
    assert causal["labels"] == bidirectional["labels"] and causal["matrix"] != bidirectional["matrix"]


@pytest.mark.parametrize("argv", [
    ["similarity", "--attention", "--layer", "2"],
    ["similarity", "--tokens", "x", "--attention"],
    ["similarity", "--sentences", "a", "b", "--causal"],
    ["similarity", "--tokens", "x", "--head", "2"],
    ["similarity"],
    ["similarity", "--positions", "0"],
    ["similarity", "--tokens", "the bank", "--attention", "--layer", "99"],
])
def test_similarity_view_user_errors_are_one_line(argv: list[str]) -> None:
    code, out, err = run_cli(argv)
    assert code == 2
    assert_contract(argv, code, out, err)

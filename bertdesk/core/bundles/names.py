"""The names of a bundle's files, its precisions and the graph inputs bertdesk's own graphs take: constants only,
so the window can name them at start-up without loading numpy, onnx or onnxruntime."""

from __future__ import annotations

BUNDLE_METADATA = "bertdesk.json"
MADE_BY_KEY, MADE_BY = "made_by", "bertdesk"
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt")
MANIFEST = "bertdesk-manifest.json"
#: The int8 variant `quantize` writes beside the fp32 graph, in the public onnx/ layout.
QUANTIZED_GRAPH = "onnx/model_quantized.onnx"
#: Precisions a bundle can be run at: its fp32 graph, or its int8 variant.
PRECISIONS = ("fp32", "int8")
#: The optional graph input bertdesk's own graphs take: an additive attention bias (the causal mask view feeds it).
ATTENTION_BIAS = "attention_bias"

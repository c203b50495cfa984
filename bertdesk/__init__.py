"""bertdesk: look inside a BERT model and use it, fully offline."""

import os

__version__ = "0.1.0"

# onnxruntime's own telemetry (1DS on Linux and macOS) writes a device id and an event cache under
# ~/.cache/Microsoft and would upload them: an offline, private app turns it off. The variable is read once, when
# onnxruntime initialises, so it is set here, before any bertdesk module can import onnxruntime.
os.environ["ORT_DISABLE_TELEMETRY"] = "1"

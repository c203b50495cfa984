"""Classification: fine-tuned heads, zero-shot with an embedding model, few-shot heads trained here, streaming
batches over files, and per-word explanations by occlusion. Qt-free."""

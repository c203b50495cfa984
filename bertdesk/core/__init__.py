"""The Qt-free core of bertdesk: models, tokenization, similarity. Nothing here may import Qt."""

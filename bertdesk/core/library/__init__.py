"""The offline document library: SQLite store, import per format, passages, hybrid retrieval, ask."""

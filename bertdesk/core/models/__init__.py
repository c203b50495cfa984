"""Getting models: the catalogue, downloads from the Hub, imports of local folders, removal."""

"""The Library tab: import your own documents and ask questions of them, answers with document and page."""

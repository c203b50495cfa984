"""The analysis tabs of the main window: one `AnalysisTab` per task."""

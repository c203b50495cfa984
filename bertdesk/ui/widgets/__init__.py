"""Widgets shared by several tabs: text boxes, plots (heatmap, bars, curves) and their Export action."""

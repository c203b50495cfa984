"""Choosing the model and describing it: the toolbar's picker and the "About this model" dock."""

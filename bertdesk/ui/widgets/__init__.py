"""Reusable Qt widgets of the bertdesk window: token views, tables, plots."""

"""The model catalogue's task filter as the Models menu and the model manager share it."""

from __future__ import annotations

#: The catalogue filter that shows every entry (a task filter is otherwise a TASK_* of bertdesk.core.bundles.config).
ALL_TASKS = ""

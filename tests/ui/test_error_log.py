"""The log file: a log that cannot be written is reported once, without logging's own tracebacks."""

from __future__ import annotations

import logging

from bertdesk.ui.error_log import setup_logging


def test_a_log_that_cannot_be_written_prints_no_logging_tracebacks(tmp_path, monkeypatch, capfd):
    data = tmp_path / "unwritable"
    (data / "bertdesk.log").mkdir(parents=True)  # cannot be opened as a file, even by root
    monkeypatch.setenv("BERTDESK_DATA", str(data))
    assert setup_logging() is None
    for _ in range(3):
        logging.getLogger("bertdesk.ui").error("something failed")
    err = capfd.readouterr().err
    assert "--- Logging error ---" not in err and "Traceback" not in err
    assert err.count("cannot write the log file") == 1

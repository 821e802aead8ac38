"""Errors that mean the user named something a run does not hold; every command line prints them in one line.

Kept at the bottom of ``curate`` so that ``train`` and ``reports`` raise the same error the command lines
catch (:data:`curate.core.command.USER_ERRORS`), without importing a command line.
"""

from __future__ import annotations


class NotInRun(LookupError):
    """A mixture, training run, sweep or eval set the run does not hold; the message says what it holds instead."""

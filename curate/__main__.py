"""``python -m curate`` runs the ``curate`` command line."""

from curate.cli import app

app()

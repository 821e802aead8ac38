"""``python -m reports`` runs the ``reports`` command line."""

from reports.cli import app

app()

"""``python -m train`` runs the ``train`` command line."""

from train.cli import app

app()

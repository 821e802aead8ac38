"""Diversity of any selection of documents: pure metric functions and scope scoring into the catalog."""

"""Old import path of :mod:`curate.dedup.shingles`, kept for code written against the flat layout.

New code imports ``curate.dedup.shingles``; this module only re-exports its public names.
"""

from curate.dedup.shingles import *  # noqa: F401,F403

"""Old import path of :mod:`curate.dedup.minhash`, kept for code written against the flat layout.

New code imports ``curate.dedup.minhash``; this module only re-exports its public names.
"""

from curate.dedup.minhash import *  # noqa: F401,F403

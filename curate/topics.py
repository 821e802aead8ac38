"""Old import path of :mod:`curate.models.topics`, kept for code written against the flat layout.

New code imports ``curate.models.topics``; this module only re-exports its public names.
"""

from curate.models.topics import *  # noqa: F401,F403

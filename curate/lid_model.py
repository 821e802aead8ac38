"""Old import path of :mod:`curate.models.lid`, kept for code written against the flat layout.

New code imports ``curate.models.lid``; this module only re-exports its public names.
"""

from curate.models.lid import *  # noqa: F401,F403

"""videolake: verifiable video RLVR data, built from real clips and written as sharded Arrow."""

__version__ = "0.1.0"


class VideolakeError(Exception):
    """A user-facing error: the CLI prints its message as one line, without a traceback."""

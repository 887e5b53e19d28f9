"""Errors that the command line reports as one clear message, without a traceback."""


class GeneratorError(Exception):
    """A problem with the user's input or environment: a spec, a version, a source folder.

    The message must say what failed, where (file, version, JSON pointer), and what to do next.
    """

"""Jinja extension that cookiecutter.json loads (`_extensions`): one-line hook failures.

When a hook exits non-zero, cookiecutter 2.7 logs "Stopping generation because ... hook script
didn't exit successfully" with `logger.exception`, which appends a 9-line traceback of its own
code under the hook's message (`ERROR: author_email 'x' must be an e-mail address ...`). The
traceback says nothing the hook did not; this filter drops it, keeping cookiecutter's message.
cookiecutter imports this module from the template directory (and cruft does the same) before
it prompts; it adds no Jinja syntax and changes no rendering.
"""

import logging

from jinja2.ext import Extension


class DropHookTraceback(logging.Filter):
    """Remove the traceback from cookiecutter's "hook script failed" records only."""

    def filter(self, record):
        if record.exc_info and type(record.exc_info[1]).__name__ == "FailedHookException":
            record.exc_info = None
            record.exc_text = None
        return True


class QuietHookFailures(Extension):
    def __init__(self, environment):
        super().__init__(environment)
        logger = logging.getLogger("cookiecutter.hooks")
        # A Jinja environment is created several times per bake: install the filter once.
        if not any(type(f).__name__ == DropHookTraceback.__name__ for f in logger.filters):
            logger.addFilter(DropHookTraceback())

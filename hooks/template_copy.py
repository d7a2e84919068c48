"""Remove cookiecutter's temporary copy of the template after a failed check (standard library only).

Because the template has a pre-prompt hook, cookiecutter 2.7 copies the whole template directory
into a fresh `mkdtemp(prefix="cookiecutter")` directory and bakes from the copy; it deletes the
copy only after a successful bake. A hook that stops the bake calls this so nothing is left in
the temporary directory. Not a hook itself: cookiecutter runs only files named after a hook.
"""

import os
import re
import shutil
import stat
import tempfile
from pathlib import Path

# tempfile.mkdtemp(prefix="cookiecutter"): the prefix, 8 random characters, mode 0700.
MKDTEMP_NAME = re.compile(r"^cookiecutter[a-z0-9_]{8}$")


def remove_template_copy(repo_dir):
    """Delete repo_dir's parent if, and only if, it is the temporary directory cookiecutter made."""
    if not repo_dir:
        return
    copy = Path(repo_dir).resolve().parent
    if not (
        MKDTEMP_NAME.match(copy.name)
        and copy.parent == Path(tempfile.gettempdir()).resolve()
        and stat.S_IMODE(copy.stat().st_mode) == 0o700
        and [path.name for path in copy.iterdir()] == [Path(repo_dir).name]
    ):
        return
    if Path.cwd().resolve().is_relative_to(copy):
        os.chdir(copy.parent)
    shutil.rmtree(copy, ignore_errors=True)

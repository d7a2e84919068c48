"""Check yes/no and choice answers given on the command line, in one line (standard library only).

cookiecutter 2.7 converts `use_sentry=maybe` or `python_version=3.9` from its command line before
any template code sees the answers, and a value it cannot use ends in a bare ValueError: a
30-line Python traceback. This pre-prompt hook is the only template code that runs earlier. It
is not given the answers, so it reads its parent's command line (the `cookiecutter` process:
/proc on Linux, `ps` elsewhere), checks the KEY=VALUE arguments whose KEY is a yes/no or choice
variable of cookiecutter.json, and stops with one line naming the field. Interactive answers
need no help: cookiecutter asks a yes/no or choice question again until the answer is valid.
If the command line cannot be read, this does nothing and cookiecutter's own error remains.
Free-text answers are checked after the prompts, in pre_gen_project.py.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

from template_copy import remove_template_copy

# The spellings cookiecutter 2.7 accepts (cookiecutter.prompt.YesNoPrompt).
YES = ("1", "true", "t", "yes", "y", "on")
NO = ("0", "false", "f", "no", "n", "off")


def parent_argv():
    """The parent process's arguments, or [] when they cannot be read."""
    ppid = os.getppid()
    try:
        raw = Path(f"/proc/{ppid}/cmdline").read_bytes()
        return [arg.decode("utf-8", "replace") for arg in raw.split(b"\0") if arg]
    except OSError:
        pass
    try:
        out = subprocess.run(
            ["ps", "-o", "args=", "-p", str(ppid)], capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return []
    return out.stdout.split()  # ps joins arguments with spaces: good enough for KEY=VALUE tokens


def is_cookiecutter_cli(argv):
    """True for `cookiecutter ...` and `python -m cookiecutter ...` (not pytest-cookies or cruft)."""
    names = [Path(arg).name for arg in argv[:3]]
    return "cookiecutter" in names or "cookiecutter.exe" in names


def problems(argv, variables):
    found = []
    for arg in argv:
        key, sep, value = arg.partition("=")
        if not sep or key not in variables:
            continue
        default = variables[key]
        if isinstance(default, bool) and value.strip().lower() not in YES + NO:
            found.append(f"{key} {value!r} must be yes or no (also true/false, y/n, 1/0, on/off).")
        elif isinstance(default, list) and value not in default:
            found.append(f"{key} {value!r} must be one of {', '.join(default)}.")
    return found


def main():
    argv = parent_argv()
    if not is_cookiecutter_cli(argv):
        return 0
    variables = json.loads(Path("cookiecutter.json").read_text(encoding="utf-8"))
    errors = problems(argv, variables)
    for problem in errors:
        print(f"ERROR: {problem}", file=sys.stderr)
    if errors:
        remove_template_copy(Path.cwd())
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())

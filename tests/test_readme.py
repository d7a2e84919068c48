"""The READMEs' commands, run as a reader would type them.

Baked README convention: everything between `<!-- walkthrough:start -->` and
`<!-- walkthrough:end -->` is the local walkthrough. Every ```bash block there is run, in order,
in ONE bash session (so `TOKEN=...` carries over, as in a terminal), with `set -euo pipefail`.
A ```json or ```text block that follows a bash block is that block's documented output: text
must match exactly, JSON must have the same keys and values, where a string value written as
"<anything>" (e.g. "<token>") stands for any value. New sections and endpoints added inside the
markers are followed automatically. The test maps three things, and only these:
  - `python3 -m venv .venv` becomes a symlink to the shared venv for this requirements hash
    (baked_venvs.VenvCache); the README's `pip install -r requirements-dev.txt` then runs for real
    against it (everything is already satisfied, so no network);
  - a block with `manage.py runserver` runs in the background (a reader's first terminal), on a
    free port instead of 8000; `127.0.0.1:8000` in later blocks is rewritten to that port;
  - the session has no venv activated and a throwaway HOME, like a fresh terminal.
"""

import json
import os
import queue
import re
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from baking import TEMPLATE_DIR, bake_template
from processes import free_port

FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```[ \t]*$", re.M | re.S)
VENV_LINE = "python3 -m venv .venv"
DEFAULT_ADDRESS = "127.0.0.1:8000"


def test_readme_gives_the_command_ci_runs():
    ci_lines = (TEMPLATE_DIR / ".ci" / "run").read_text().splitlines()
    command = ci_lines[-1]
    assert command.startswith("python3 -m venv .venv")
    for guide in ("README.md", "CONTRIBUTING.md"):
        assert command in (TEMPLATE_DIR / guide).read_text().splitlines(), guide


def section(markdown, heading):
    """The text under `heading` (a line of the Markdown) up to the next heading of its level."""
    level = heading.split(" ")[0]
    start = markdown.index("\n" + heading + "\n")
    following = re.compile(rf"^{level} ", re.M).search(markdown, start + len(heading) + 2)
    return markdown[start : following.start() if following else len(markdown)]


def fenced_blocks(text):
    """[(language, body)] of every fenced code block, in order."""
    return [(match.group(1), match.group(2)) for match in FENCE.finditer(text)]


@pytest.mark.slow  # pip installs cookiecutter into a new venv
def test_template_readme_bake_command_works_on_a_fresh_machine(tmp_path):
    """The README's three lines: a venv, pip install cookiecutter, bake (from this checkout
    instead of gh:OWNER/REPO, with --no-input). HOME is empty, so the venv lands in it."""
    blocks = fenced_blocks(section((TEMPLATE_DIR / "README.md").read_text(), "## Bake a project"))
    language, script = blocks[0]
    assert language == "bash" and "gh:OWNER/REPO" in script and "python " not in script
    script = script.replace("gh:OWNER/REPO", f"--no-input -o {tmp_path / 'out'} {bake_template()}")
    home = tmp_path / "home"
    home.mkdir()
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "LANG": "C.UTF-8",
           **{key: value for key, value in os.environ.items() if key.startswith("PIP_")}}
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (home / ".venvs" / "cookiecutter" / "bin" / "cookiecutter").exists()
    assert (tmp_path / "out" / "my_api" / "manage.py").exists()
    assert "cd out/my_api" in result.stdout  # the next steps name the path from the shell's directory


# --- The baked README's local walkthrough -------------------------------------------------------


class Shell:
    """One bash session fed block by block, as a reader pastes into a terminal."""

    def __init__(self, cwd, env, log):
        self.process = subprocess.Popen(
            ["bash", "--noprofile", "--norc"], cwd=cwd, env=env, text=True, bufsize=1,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.lines = queue.Queue()
        self.log = log
        threading.Thread(target=self._pump, daemon=True).start()
        self.run("set -euo pipefail", timeout=10)

    def _pump(self):
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def run(self, script, timeout):
        """Run script; return its output. Fails the test if it fails (set -e ends the shell)."""
        marker = f"__done_{secrets.token_hex(6)}__"
        self.log.append(f"$ {script}")
        # $? is the block's last status: a failure set -e lets pass (`a && b`) still counts.
        self.process.stdin.write(f"{script}\nprintf '\\n{marker}%s\\n' \"$?\"\n")
        self.process.stdin.flush()
        output = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail(f"README block timed out after {timeout}s:\n{script}\n--- output\n{''.join(output)}")
            if line is None:
                pytest.fail(f"README block failed (exit {self.process.wait()}):\n{script}\n"
                            f"--- output\n{''.join(output)}")
            if line.startswith(marker):
                status = int(line[len(marker):])
                break
            output.append(line)
        text = "".join(output)
        if status != 0:
            pytest.fail(f"README block exited {status}:\n{script}\n--- output\n{text}")
        if text.endswith("\n"):  # the newline printf put before the marker
            text = text[:-1]
        self.log.append(text)
        return text

    def close(self):
        """Stop the shell's whole group: bash and the runserver it started in the background,
        which outlives bash when a failing block has already ended the shell (set -e)."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                break  # nothing left in the group
            try:
                self.process.wait(timeout=20)
                time.sleep(0.5)  # runserver's autoreloader child may take a moment after bash
            except subprocess.TimeoutExpired:
                continue


def walkthrough(markdown):
    """[(bash script, expected (language, text) or None)] between the walkthrough markers."""
    start = markdown.index("<!-- walkthrough:start")
    end = markdown.index("<!-- walkthrough:end", start)
    steps = []
    for language, body in fenced_blocks(markdown[start:end]):
        if language == "bash":
            steps.append([body.rstrip("\n"), None])
        elif language in ("json", "text") and steps and steps[-1][1] is None:
            steps[-1][1] = (language, body.rstrip("\n"))
    return steps


def matches(documented, actual):
    """JSON equality where a documented "<...>" string stands for any value."""
    if isinstance(documented, str) and documented.startswith("<") and documented.endswith(">"):
        return True
    if isinstance(documented, dict):
        return (isinstance(actual, dict) and documented.keys() == actual.keys()
                and all(matches(documented[key], actual[key]) for key in documented))
    if isinstance(documented, list):
        return (isinstance(actual, list) and len(documented) == len(actual)
                and all(matches(d, a) for d, a in zip(documented, actual, strict=True)))
    return documented == actual


def wait_for_http(port, log_path, timeout=60):
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health/", timeout=2)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"runserver did not answer on {port}:\n{Path(log_path).read_text()}")


@pytest.mark.slow  # runserver, and the API calls the README makes
def test_baked_readme_local_walkthrough(cookies, venvs, tmp_path):
    """Bake, then follow the baked README's local sections command by command."""
    result = cookies.bake()
    assert result.exit_code == 0, result.exception
    project = Path(result.project_path)
    venv = venvs.for_project(project)
    steps = walkthrough((project / "README.md").read_text())
    scripts = "\n".join(script for script, _ in steps)
    for expected in (VENV_LINE, "pip install -r requirements-dev.txt", "manage.py migrate",
                     "manage.py runserver", "pre-commit install", "/auth/signup/", "/auth/login/",
                     "/auth/me/", "/auth/logout/", "/auth/password/", ".venv/bin/pytest", "ruff check"):
        assert expected in scripts, f"the walkthrough has no {expected!r}"
    assert re.search(r"(^|[\s;&|(])python ", scripts) is None, "python3 or .venv/bin/python, never python"

    port = free_port()
    home = tmp_path / "home"
    home.mkdir()
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "LANG": "C.UTF-8", "TMPDIR": str(tmp_path)}
    server_log = tmp_path / "runserver.log"
    log = []
    shell = Shell(project, env, log)
    try:
        for script, expected in steps:
            script = script.replace(DEFAULT_ADDRESS, f"127.0.0.1:{port}")
            if VENV_LINE in script.splitlines():
                script = "\n".join(f"ln -s {venv} .venv" if line.strip() == VENV_LINE else line
                                   for line in script.splitlines())
            if "manage.py runserver" in script:
                assert expected is None, "runserver's block has no documented output"
                command = script.replace("manage.py runserver", f"manage.py runserver 127.0.0.1:{port}")
                shell.run(f"( {command} ) > {server_log} 2>&1 &", timeout=10)
                wait_for_http(port, server_log)
                continue
            output = shell.run(script, timeout=600)
            if expected is None:
                continue
            language, documented = expected
            if language == "text":
                assert output.strip() == documented.strip(), f"{script}\n--- got\n{output}"
            else:
                assert matches(json.loads(documented), json.loads(output)), (
                    f"{script}\n--- documented\n{documented}\n--- got\n{output}")
    except BaseException:
        print("\n".join(log))
        raise
    finally:
        shell.close()

    # Development logs each request once (runserver's own line is not repeated by ours).
    requests = [line for line in server_log.read_text().splitlines() if "/api/auth/me/" in line]
    me_calls = scripts.count("/auth/me/")
    assert len(requests) == me_calls, "\n".join(requests)


def bake_from_git_template(tmp_path, env):
    """The template as a git repository (cruft clones it), and a project baked from it."""
    template = tmp_path / "template"
    shutil.copytree(bake_template(), template)
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "template v1"]):
        subprocess.run(["git", *command], cwd=template, env=env, check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "cookiecutter", "--no-input", "-o", str(tmp_path / "out"),
                    str(template)], env=env, check=True, capture_output=True, timeout=120)
    return template, tmp_path / "out" / "my_api"


@pytest.mark.slow  # pip installs cruft into a new venv
def test_template_updates_with_cruft_from_a_venv(tmp_path):
    """The baked README's cruft blocks, run as written (venv and pinned pip install included) with
    an empty HOME: link, commit; then a new template release arrives and `cruft update` shows it
    when asked `v` (the preview the README describes; typer 0.29 crashed at that prompt) and
    applies it on `y`; `cruft diff` is then empty, and .env (secret key, local settings) is never
    touched."""
    home = tmp_path / "home"
    home.mkdir()
    identity = {"GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.com",
                "GIT_COMMITTER_NAME": "T", "GIT_COMMITTER_EMAIL": "t@example.com"}
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "LANG": "C.UTF-8", "GIT_CONFIG_NOSYSTEM": "1",
           **{key: value for key, value in os.environ.items() if key.startswith("PIP_")}}
    template, project = bake_from_git_template(tmp_path, {**env, **identity})
    dotenv = (project / ".env").read_text()
    link, update = fenced_blocks(section((project / "README.md").read_text(), "## Template updates"))[:2]
    assert link[0] == update[0] == "bash"
    assert f"cruft link --no-input {template}" in link[1]
    assert update[1].strip() == "~/.venvs/cruft/bin/cruft update"

    def bash(script, answers=None):
        result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=project, env=env,
                                input=answers, capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, f"{script}\n{result.stdout}\n{result.stderr}"
        return result.stdout

    bash(link[1])
    assert json.loads((project / ".cruft.json").read_text())["context"]["cookiecutter"]["project_name"] == "My API"
    cruft = home / ".venvs" / "cruft" / "bin" / "cruft"
    assert bash(f"{cruft} diff --exit-code") == ""

    # A new release of the template changes a baked file.
    example = template / "{{cookiecutter.project_slug}}" / ".env.example"
    example.write_text(example.read_text() + "# NEW_SETTING=from the next release\n")
    subprocess.run(["git", "commit", "-qam", "template v2"], cwd=template, env={**env, **identity}, check=True)
    shown = bash(update[1], answers="v\ny\n")
    assert "+# NEW_SETTING=from the next release" in shown, shown  # the preview, before applying
    assert "# NEW_SETTING=from the next release" in (project / ".env.example").read_text()
    assert (project / ".env").read_text() == dotenv
    assert bash(f"{cruft} diff --exit-code") == ""


def test_next_steps_message_gives_the_readme_commands(tmp_path):
    """What the bake prints is what the baked README's walkthrough runs, for this path."""
    result = subprocess.run([sys.executable, "-m", "cookiecutter", "--no-input", "-o", str(tmp_path),
                             str(bake_template())], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    project = tmp_path / "my_api"
    printed = [line.strip() for line in result.stdout.splitlines() if line.startswith("    ")]
    assert printed[0] == f"cd {project}"
    readme_lines = {line.strip() for script, _ in walkthrough((project / "README.md").read_text())
                    for line in script.splitlines()}
    assert printed[1:] and set(printed[1:]) <= readme_lines, printed
    assert '"Deploy to Railway"' in result.stdout and "## Deploy to Railway" in (project / "README.md").read_text()

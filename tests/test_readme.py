from helpers import TEMPLATE_DIR


def test_readme_gives_the_command_ci_runs():
    ci_lines = (TEMPLATE_DIR / ".ci" / "run").read_text().splitlines()
    command = ci_lines[-1]
    assert command.startswith("python3 -m venv .venv")
    assert command in (TEMPLATE_DIR / "README.md").read_text().splitlines()

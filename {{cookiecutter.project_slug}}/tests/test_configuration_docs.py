"""The variables the code reads, .env.example and docs/configuration.md agree.

Every variable that config/, plumbing/ or server.py reads (with one of config/env.py's readers,
os.environ or os.getenv) must be in both files, with the same default: the value after `=` in
.env.example, the value a docs/configuration.md row's Default cell opens with (a cell opening
with words, such as "unset", stands for an empty value), and the default the code passes where
it is a literal (for `a if DEBUG else b`, the production `b`). Add a new variable to all three.
"""

import ast
import re
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
ENV_LINE = re.compile(r"^#? ?([A-Z][A-Z0-9_]*)=(.*)$")
TABLE_ROW = re.compile(r"^\|([^|]+)\|([^|]+)\|")
NAME_CELL = re.compile(r"^\s*`[A-Z][A-Z0-9_]*`(\s*,\s*`[A-Z][A-Z0-9_]*`)*\s*$")
UNKNOWN = object()  # a default the code computes


def code_files():
    files = [PROJECT_DIR / "server.py", *(PROJECT_DIR / "config").glob("*.py")]
    files += (PROJECT_DIR / "plumbing").rglob("*.py")
    return [
        path
        for path in files
        if path.name != "settings_test.py"
        and not {"tests", "migrations"} & set(path.relative_to(PROJECT_DIR).parts)
    ]


def readers():
    """{name: default when a call passes none} of config/env.py's functions taking a name."""
    found = {}
    for node in ast.parse((PROJECT_DIR / "config" / "env.py").read_text()).body:
        if isinstance(node, ast.FunctionDef) and node.args.args:
            # The second parameter's default (defaults belong to the last parameters).
            index = 1 - (len(node.args.args) - len(node.args.defaults))
            default = node.args.defaults[index] if 0 <= index < len(node.args.defaults) else None
            found[node.name] = default.value if isinstance(default, ast.Constant) else ""
    return found


def is_os_environ(node):
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "environ"
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    )


def literal(node, constants):
    """The production value of a default argument, or UNKNOWN."""
    if isinstance(node, ast.IfExp) and getattr(node.test, "id", "").lower() == "debug":
        node = node.orelse
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return constants.get(node.id, UNKNOWN)
    return UNKNOWN


def read_call(node, known_readers):
    """(variable name, default node or the reader's default) if node reads a variable."""
    if not node.args or not isinstance(node.args[0], ast.Constant):
        return None
    name = node.args[0].value
    given = node.args[1] if len(node.args) > 1 else None
    given = given or next((k.value for k in node.keywords if k.arg == "default"), None)
    function = node.func
    if isinstance(function, ast.Name) and function.id in known_readers:
        return name, given if given else known_readers[function.id]
    if isinstance(function, ast.Attribute) and (
        (function.attr == "get" and is_os_environ(function.value)) or function.attr == "getenv"
    ):
        return name, given if given else ""
    return None


def variables_read():
    """{name: [default, ...]} of every variable the code reads, one default per place."""
    known_readers = readers()
    found = {}
    for path in code_files():
        tree = ast.parse(path.read_text())
        constants = {
            node.targets[0].id: node.value.value
            for node in tree.body
            if isinstance(node, ast.Assign)
            and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, ast.Constant)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and (read := read_call(node, known_readers)):
                name, default = read
                if isinstance(default, ast.AST):
                    default = literal(default, constants)
                found.setdefault(name, []).append(default)
            elif (
                isinstance(node, ast.Subscript)
                and isinstance(node.ctx, ast.Load)
                and is_os_environ(node.value)
                and isinstance(node.slice, ast.Constant)
            ):
                found.setdefault(node.slice.value, []).append(UNKNOWN)
    return found


def env_example():
    """{name: value} of .env.example's variable lines (commented out or not)."""
    values = {}
    for line in (PROJECT_DIR / ".env.example").read_text().splitlines():
        if match := ENV_LINE.match(line):
            name = match.group(1)
            assert name not in values, f".env.example lists {name} twice"
            values[name] = match.group(2).strip()
    return values


def documented():
    """{name: default} of docs/configuration.md's tables."""
    defaults = {}
    for line in (PROJECT_DIR / "docs" / "configuration.md").read_text().splitlines():
        match = TABLE_ROW.match(line)
        if not match or not NAME_CELL.match(match.group(1)):
            continue
        cell = match.group(2).strip()
        default = cell.split("`")[1] if cell.startswith("`") else ""
        for name in re.findall(r"`([A-Z][A-Z0-9_]*)`", match.group(1)):
            assert name not in defaults, f"docs/configuration.md lists {name} twice"
            defaults[name] = default
    return defaults


def normal(value):
    """A default as the readers see it: booleans and numbers by value, unset as ""."""
    text = "" if value is None else str(value).strip()
    if text.lower() in {"true", "false"}:
        return text.lower()
    try:
        return float(text.replace("_", ""))
    except ValueError:
        return text


def test_env_example_and_the_docs_list_the_same_variables():
    example, docs = set(env_example()), set(documented())
    assert example - docs == set(), "in .env.example, missing from docs/configuration.md"
    assert docs - example == set(), "in docs/configuration.md, missing from .env.example"


def test_env_example_and_the_docs_give_the_same_defaults():
    example, docs = env_example(), documented()
    differ = {
        name: (example[name], docs[name])
        for name in example.keys() & docs.keys()
        if normal(example[name]) != normal(docs[name])
    }
    assert differ == {}, "name: (.env.example, docs/configuration.md)"


def test_every_variable_the_code_reads_is_listed_with_its_default():
    example = env_example()
    read = variables_read()
    assert len(read) > 40, sorted(read)  # the scan still finds the settings' variables
    assert set(read) - set(example) == set(), "read by the code, missing from .env.example"
    differ = {
        name: (defaults, example[name])
        for name, defaults in read.items()
        if any(d is not UNKNOWN and normal(d) != normal(example[name]) for d in defaults)
    }
    assert differ == {}, "name: (defaults in the code, .env.example)"

"""The project's shape, checked from the source text (ast; nothing is imported or run).

Rules:
* the project's own imports form no circle (every ``import``, including those inside functions);
* ``cmcore`` (the engine) imports neither Streamlit, Altair nor pandas;
* ``cmcore/jobs.py`` is a generic worker pool: no torch and no project module but ``cmcore.series``;
* pages import nothing from torch directly (they go through ``ui`` and ``cmcore``);
* no module in ``cmcore/``, ``ui/`` or ``viz/`` is longer than 300 lines, unless a line of its module
  docstring starts with ``Longer than 300 lines because`` and gives the reason;
* no module reaches for another project module's private name (``from m import _x`` or ``m._x``): what
  two modules share is public and named for what it does.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("cmcore", "ui", "viz")  # walked recursively; viz/ only when it exists
SCRIPTS = ("app.py", "pages/*.py", "bench/*.py")
ENGINE_FORBIDDEN = {"streamlit", "altair", "pandas"}
MAX_LINES = 300
LONG_MODULE_REASON = "Longer than 300 lines because"


def project_files(root: Path = ROOT) -> dict[str, Path]:
    """Module name -> file, for every project module and script (``pages/home.py`` -> ``pages.home``)."""
    paths = [p for pattern in SCRIPTS for p in sorted(root.glob(pattern))]
    paths += [p for package in PACKAGES if (root / package).is_dir() for p in sorted((root / package).rglob("*.py"))]
    files = {}
    for path in paths:
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        files[".".join(parts)] = path
    return files


def import_base(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The module a ``from ... import`` reads from, a relative one resolved against ``module``."""
    if not node.level:
        return node.module
    package = module if is_package else module.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{node.module}" if node.module else package


def imported_names(path: Path, module: str) -> set[str]:
    """Every dotted name ``path`` may import, relative imports resolved (``from a import b`` gives a and a.b)."""
    is_package = path.name == "__init__.py"
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = import_base(node, module, is_package)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def top_level_imports(path: Path) -> set[str]:
    """First component of every absolute import in ``path`` (``from torch import nn`` -> torch)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Project module -> the project modules it imports."""
    files = project_files(root)
    return {module: (imported_names(path, module) & files.keys()) - {module} for module, path in files.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle as [a, b, ..., a], or None (depth-first search, three colours)."""
    state: dict[str, str] = {}  # "open" while on the current path, "done" after
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def relative(path: Path) -> str:
    return str(path.relative_to(ROOT))


# --- The walker itself --------------------------------------------------------------------

def write_tree(root: Path, files: dict[str, str]) -> None:
    """A small project under ``root``: each relative path with its text (folders made as needed)."""
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def test_the_walker_finds_a_circle_hidden_in_a_function(tmp_path):
    write_tree(tmp_path, {"ui/__init__.py": "", "ui/a.py": "from ui import b\n",
                          "ui/b.py": "import os\n\ndef late():\n    from .c import thing\n",
                          "ui/c.py": "from ui.a import x\n", "app.py": "import ui.a\n"})
    graph = import_graph(tmp_path)
    assert graph["app"] == {"ui.a"} and graph["ui.b"] == {"ui.c"}
    assert find_cycle(graph) == ["ui.a", "ui.b", "ui.c", "ui.a"]
    (tmp_path / "ui" / "c.py").write_text("import json\n")
    assert find_cycle(import_graph(tmp_path)) is None


def test_the_walker_sees_the_whole_project():
    graph = import_graph()
    assert {"app", "pages.home", "cmcore.train", "cmcore.jobs", "ui.compute"} <= graph.keys()
    assert "cmcore.nets" in graph["cmcore.train"]  # a relative import, resolved


# --- The rules ----------------------------------------------------------------------------

def test_the_project_imports_form_no_circle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import circle: " + " -> ".join(cycle)


def test_the_engine_imports_no_streamlit_altair_or_pandas():
    offenders = {relative(path): sorted(top_level_imports(path) & ENGINE_FORBIDDEN)
                 for path in sorted((ROOT / "cmcore").rglob("*.py"))}
    offenders = {path: names for path, names in offenders.items() if names}
    assert offenders == {}, f"cmcore must stay torch + numpy (presentation and Streamlit live elsewhere): {offenders}"


def test_the_job_pool_is_generic():
    """The pool may read only ``cmcore.series`` (numpy window means), itself free of torch and the project."""
    path, series = ROOT / "cmcore" / "jobs.py", ROOT / "cmcore" / "series.py"
    project = {name for name in imported_names(path, "cmcore.jobs") if name.startswith("cmcore")}
    assert "torch" not in top_level_imports(path) and project <= {"cmcore.series", "cmcore.series.window_means"}, project
    assert top_level_imports(series) <= {"__future__", "numpy"} and not imported_names(series, "cmcore.series") & {
        *project_files()}


@pytest.mark.parametrize("path", sorted((ROOT / "pages").glob("*.py")), ids=lambda p: p.name)
def test_pages_do_not_import_torch(path):
    assert "torch" not in top_level_imports(path), f"{relative(path)} imports torch; go through ui/ or cmcore/"


def package_modules() -> list[Path]:
    return [p for package in PACKAGES if (ROOT / package).is_dir() for p in sorted((ROOT / package).rglob("*.py"))]


@pytest.mark.parametrize("path", package_modules(), ids=relative)
def test_modules_are_short_or_say_why(path):
    text = path.read_text(encoding="utf-8")
    lines = len(text.splitlines())
    docstring = ast.get_docstring(ast.parse(text)) or ""
    reason = any(line.strip().startswith(LONG_MODULE_REASON) for line in docstring.splitlines())
    assert lines <= MAX_LINES or reason, (
        f"{relative(path)} has {lines} lines (limit {MAX_LINES}); split it, or start a line of its module "
        f"docstring with {LONG_MODULE_REASON!r} and the reason.")


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_uses(path: Path, module: str, files) -> list[str]:
    """``line: name`` for every private name of another project module that ``path`` imports or reads as an
    attribute (``from viz.charts import _frame``, ``charts._frame`` after ``from viz import charts``)."""
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    bound, found = {}, []  # local name -> the project module it stands for
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                bound[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            base = import_base(node, module, is_package)
            for alias in node.names:
                if f"{base}.{alias.name}" in files:
                    bound[alias.asname or alias.name] = f"{base}.{alias.name}"
                elif base in files and base != module and is_private(alias.name):
                    found.append(f"{node.lineno}: {base}.{alias.name}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and is_private(node.attr):
            chain, value = [], node.value
            while isinstance(value, ast.Attribute):
                chain.append(value.attr)
                value = value.value
            if isinstance(value, ast.Name) and value.id in bound:
                target = ".".join([bound[value.id], *reversed(chain)])
                if target in files and target != module:
                    found.append(f"{node.lineno}: {target}.{node.attr}")
    return found


def test_the_walker_finds_a_private_name_crossing_modules(tmp_path):
    write_tree(tmp_path, {
        "viz/__init__.py": "",
        "viz/charts.py": "def _frame(df):\n    return df\n\n\ndef frame(df):\n    return _frame(df)\n",
        "viz/a.py": "from viz.charts import _frame, frame\n",
        "viz/b.py": "from viz import charts\n\n\ndef f(df):\n    return charts._frame(df)\n",
        "viz/c.py": "from . import charts\nfrom __future__ import annotations\nx = charts.frame.__name__\n"})
    files = project_files(tmp_path)
    found = {m: private_uses(files[m], m, files) for m in ("viz.a", "viz.b", "viz.c", "viz.charts")}
    assert found == {"viz.a": ["1: viz.charts._frame"], "viz.b": ["5: viz.charts._frame"], "viz.c": [], "viz.charts": []}


def test_no_module_uses_another_modules_private_names():
    files = project_files()
    offenders = {relative(path): uses for module, path in files.items() if (uses := private_uses(path, module, files))}
    assert offenders == {}, f"make these public (named for what they do) or keep them in their module: {offenders}"


def literal_defaults(path: Path) -> list[tuple[int, object]]:
    """(line, value) of every string constant used as a parameter default or a dataclass field default."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found += [(d.lineno, d.value) for d in [*node.args.defaults, *node.args.kw_defaults]
                      if isinstance(d, ast.Constant)]
        elif isinstance(node, ast.ClassDef):
            found += [(s.value.lineno, s.value.value) for s in node.body
                      if isinstance(s, ast.AnnAssign) and isinstance(s.value, ast.Constant)]
        elif isinstance(node, ast.keyword) and node.arg == "default" and isinstance(node.value, ast.Constant):
            found.append((node.value.lineno, node.value.value))  # argparse's default=
    return found


def test_the_walker_finds_a_literal_default(tmp_path):
    path = tmp_path / "m.py"
    path.write_text('def f(d: str = "x", *, k="y"):\n    pass\n\n\nclass C:\n    d: str = "z"\n\n\np.add("--d", default="w")\n')
    assert sorted(v for _, v in literal_defaults(path)) == ["w", "x", "y", "z"]


def test_no_default_dataset_outside_config():
    """The default dataset is named once (``config.DEFAULT_DATASET``); every signature reads that constant."""
    from cmcore.config import DEFAULT_DATASET

    offenders = {f"{relative(path)}:{line}" for path in project_files().values() if path.name != "config.py"
                 for line, value in literal_defaults(path) if value == DEFAULT_DATASET}
    assert offenders == set(), f"write config.DEFAULT_DATASET, not {DEFAULT_DATASET!r}: {sorted(offenders)}"


# --- The engine writes no sentence about a finding ----------------------------------------

# Phrases only a narrated comparison uses (``viz.words.compare.says``, ``viz.words.claims.evidence``); a claim's
# statement ("not measurably worse") is a definition the engine judges, and stays in the engine.
FINDING_PHRASES = ("indistinguishable at", "inside the noise", "outside the noise", "noise of", "% level",
                   "never learned")
VERDICT_WORDS = {"better", "worse", "lower", "higher", "improved", "indistinguishable"}


def finding_sentences(path: Path) -> list[str]:
    """``line: text`` for every string in ``path`` that narrates a finding: a phrase of FINDING_PHRASES in a
    string or f-string (docstrings and command-line ``help=`` aside), or a verdict word picked by a condition
    (``'better' if c.lower else 'worse'``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                skip.add(id(first.value))
        elif isinstance(node, ast.keyword) and node.arg == "help":
            skip.update(id(n) for n in ast.walk(node.value))
    found = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.JoinedStr):  # an f-string: its text parts, each {value} as {}
            skip.update(id(n) for n in node.values)
            text = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        else:
            text = ""
        if any(phrase in text.lower() for phrase in FINDING_PHRASES):
            found.append(f"{node.lineno}: {text.strip()[:60]!r}")
        if isinstance(node, ast.IfExp):
            words = {n.value for n in (node.body, node.orelse) if isinstance(n, ast.Constant)}
            if words & VERDICT_WORDS:
                found.append(f"{node.lineno}: a verdict picked by a condition: {sorted(words)}")
    return sorted(found, key=lambda f: int(f.split(":")[0]))


def test_the_walker_finds_a_finding_sentence(tmp_path):
    path = tmp_path / "m.py"
    path.write_text('"""Sentences say "inside the noise of" here: a docstring."""\n\n\n'
                    'def f(c, a):\n    """Outside the noise: documented."""\n'
                    '    p.add_argument("--x", help="judged at the 5% level")\n'
                    '    s = f"{a} is {\'better\' if c.lower else \'worse\'} than B"\n'
                    '    return s + f" (inside the noise of {c.half_width:.3f} at the 5% level)"\n')
    assert finding_sentences(path) == ["7: a verdict picked by a condition: ['better', 'worse']",
                                       "8: '(inside the noise of {} at the 5% level)'"]
    path.write_text('"""Numbers only."""\nLOWER, SAME = "lower", "indistinguishable"\n\n\n'
                    'def f(c):\n    return {"diff": c.diff, "met": "yes" if c.lower else "NO"}\n')
    assert finding_sentences(path) == []


def test_the_engine_writes_no_finding_sentence():
    """The engine returns findings (Comparisons, Claims with their Scores); ``viz/words/`` says them."""
    offenders = {relative(path): found for path in sorted((ROOT / "cmcore").rglob("*.py"))
                 if (found := finding_sentences(path))}
    assert offenders == {}, f"move these sentences to viz/words/ and return the numbers instead: {offenders}"

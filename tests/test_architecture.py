"""The rooms of the code and the one-way arrows between them, read from the imports.

A room is `index`, `ui`, or a folder of `bot/` (`bot.answering`, `bot.transcripts`,
`bot.questionnaires`, `bot.workspace`, `bot.evaluation`); `bot.cli` is the entry point and
`bot.base` the modules every room may use (settings, errors, logs). Every import counts, also
one inside a function or under TYPE_CHECKING. The README's drawing is this graph: it is
checked here, so it cannot go stale.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Every folder of bot/ is a room: a new one shows in the drawing (and must be drawn).
ROOMS = tuple(sorted(p.parent.name for p in (ROOT / "bot").glob("*/__init__.py")))


def room(module: str) -> str | None:
    """`bot.transcripts.store` -> "bot.transcripts"; None outside procurebot's packages."""
    parts = module.split(".")
    if parts[0] in ("index", "ui"):
        return parts[0]
    if parts[0] != "bot" or len(parts) == 1:
        return None
    if parts[1] in ROOMS:
        return f"bot.{parts[1]}"
    return "bot.base"


def modules() -> dict[str, Path]:
    """Every module of index/, bot/ and ui/ by its dotted name (a package by its own)."""
    found = {}
    for package in ("index", "bot", "ui"):
        for path in sorted((ROOT / package).rglob("*.py")):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def imported(node: ast.Import | ast.ImportFrom, module: str, path: Path) -> list[str]:
    """The modules (or names in them) an import statement names, relative ones resolved."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:  # from .x import y, from .. import z
        package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        package = package[: len(package) - node.level + 1]
        base = ".".join([*package, base] if base else package)
    return [f"{base}.{alias.name}" for alias in node.names]


def statements(tree: ast.Module, *, loading: bool) -> list[ast.Import | ast.ImportFrom]:
    """The import statements of a module: all of them, or (`loading`) only those that run when
    it loads — at module level, also inside try/if/with, but not in functions, classes or
    `if TYPE_CHECKING:`."""
    if not loading:
        return [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)]
    found: list[ast.Import | ast.ImportFrom] = []
    todo: list[ast.stmt] = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            todo += node.orelse
        elif isinstance(node, ast.If | ast.Try | ast.With):
            for field in ("body", "orelse", "finalbody", "handlers"):
                todo += getattr(node, field, [])
        elif isinstance(node, ast.ExceptHandler):
            todo += node.body
    return found


def imports(*, loading: bool = False) -> dict[str, set[tuple[str, str]]]:
    """For each module of index/, bot/ and ui/: the (room, module) pairs it imports."""
    found: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for module, path in modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in statements(tree, loading=loading):
            for name in imported(node, module, path):
                target = room(name)
                if target:
                    found[module].add((target, name))
    return found


def arrows() -> dict[str, set[str]]:
    """Room -> the other rooms it imports."""
    graph: dict[str, set[str]] = defaultdict(set)
    for module, targets in imports().items():
        source = room(module)
        assert source is not None
        graph[source] |= {target for target, _ in targets if target != source}
    return graph


LABELS = {
    "index": "index/ (stage 1)",
    "bot.base": "bot/ settings, errors, logs",
    "bot.cli": "bot/cli/ (the command)",
    "ui": "ui/ (stage 3)",
}


def drawing() -> str:
    """The graph as the README's Mermaid block: one node per room, then the arrows."""
    graph = arrows()
    rooms = sorted(set(graph) | {target for targets in graph.values() for target in targets})
    node = {name: name.replace(".", "_") for name in rooms}
    lines = ["flowchart TD"]
    lines += [f'  {node[r]}["{LABELS.get(r, r.replace(".", "/") + "/")}"]' for r in rooms]
    for source in rooms:
        lines += [f"  {node[source]} --> {node[target]}" for target in sorted(graph[source])]
    return "\n".join(lines)


def test_rooms_form_one_way_arrows() -> None:
    graph = arrows()
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        raise AssertionError(f"rooms import each other: {exc.args[1]}") from None
    assert order[0] == "index"  # the first stage imports no other room
    assert graph["index"] == set()


def test_stages_are_reached_only_downwards() -> None:
    graph = arrows()
    assert "index" not in graph["ui"], "the UI reaches the index only through bot/"
    assert graph["bot.answering"] <= {"bot.base", "index"}
    assert graph["bot.base"] <= {"index"}
    for lower in ("bot.transcripts", "bot.questionnaires", "bot.evaluation"):
        assert "bot.workspace" not in graph[lower] and "ui" not in graph[lower]
    assert "bot.questionnaires" not in graph["bot.transcripts"]


def test_no_module_imports_itself_round_about() -> None:
    """No cycle between modules either, counting the imports that run when a module loads
    (relative ones and `import a.b` too; not those in functions or under TYPE_CHECKING)."""
    known = modules()
    graph: dict[str, set[str]] = defaultdict(set)
    for module, targets in imports(loading=True).items():
        for _, name in targets:
            # "bot.x.y" names module bot.x.y, or name y of module bot.x
            target = name if name in known else name.rpartition(".")[0]
            if target in known and target != module and not module.startswith(f"{target}."):
                graph[module].add(target)
    try:
        list(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        raise AssertionError(f"modules import each other: {exc.args[1]}") from None


def test_readme_drawing_is_the_import_graph() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```mermaid\n(flowchart TD\n.*?)\n```", readme, re.DOTALL)
    assert block, "README.md has no Mermaid drawing of the rooms"
    assert block.group(1) == drawing(), f"README's drawing is stale; it is now:\n{drawing()}"

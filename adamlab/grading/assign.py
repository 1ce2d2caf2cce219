"""`adamlab assign`: write exercises/ from solutions/, each solution region replaced by a stub.

Regions are marked as nbgrader marks them, so instructors who use nbgrader can reuse the notebooks::

    ### BEGIN SOLUTION
    ...
    ### END SOLUTION

Inside a function or class the stub is ``raise NotImplementedError()`` (check() reports "not attempted
yet"); a region of plain top-level assignments becomes ``name = None`` for each name, so the exercise
notebook still runs top to bottom. Outputs and execution counts are cleared.
"""

from __future__ import annotations

import ast
import copy
import re
from pathlib import Path

__all__ = ["strip_solutions", "assign"]

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
_MARK = re.compile(r"^(\s*)(### BEGIN SOLUTION|### END SOLUTION)\s*$")


def _stub(region: list[str], indent: str) -> list[str]:
    body = "\n".join(line[len(indent) :] if line.startswith(indent) else line for line in region)
    try:
        tree = ast.parse(body)
        names = [
            t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets if isinstance(t, ast.Name)
        ]
        plain = bool(tree.body) and all(isinstance(n, ast.Assign) for n in tree.body) and not indent
    except SyntaxError:
        plain, names = False, []
    if plain and names:
        return [f"{name} = None  # YOUR ANSWER HERE" for name in dict.fromkeys(names)]
    return [f"{indent}# YOUR CODE HERE", f"{indent}raise NotImplementedError()"]


def strip_source(source: str) -> str:
    """The source with each BEGIN/END SOLUTION region replaced by its stub."""
    out: list[str] = []
    region: list[str] | None = None
    indent = ""
    for line in source.splitlines():
        m = _MARK.match(line)
        if m and m.group(2) == BEGIN:
            if region is not None:
                raise ValueError("nested ### BEGIN SOLUTION")
            region, indent = [], m.group(1)
        elif m and m.group(2) == END:
            if region is None:
                raise ValueError("### END SOLUTION without a BEGIN")
            out += _stub(region, indent)
            region = None
        elif region is not None:
            region.append(line)
        else:
            out.append(line)
    if region is not None:
        raise ValueError("### BEGIN SOLUTION without an END")
    return "\n".join(out)


def strip_solutions(nb):  # type: ignore[no-untyped-def]
    """A copy of a notebook with every solution region stubbed, outputs cleared."""
    nb = copy.deepcopy(nb)
    for i, cell in enumerate(nb.cells):
        try:
            if cell.cell_type == "code":
                cell.source = strip_source(cell.source)
                cell.outputs, cell.execution_count = [], None
            elif BEGIN in cell.source:
                cell.source = re.sub(
                    r"### BEGIN SOLUTION.*?### END SOLUTION", "YOUR ANSWER HERE", cell.source, flags=re.S
                )
        except ValueError as err:
            raise ValueError(f"cell {i}: {err}") from None
        cell.metadata.pop("execution", None)
    return nb


def render(path: Path) -> str:
    import nbformat

    return nbformat.writes(strip_solutions(nbformat.read(str(path), as_version=4))) + "\n"


def assign(
    source: str | Path = "solutions", dest: str | Path = "exercises", *, check: bool = False, force: bool = False
) -> int:
    """Write dest/<name>.ipynb for each source notebook. Returns a process exit code.

    ``check=True`` writes nothing and fails when dest is out of date. A dest file that differs from what
    would be written is only replaced with ``force=True``, and then kept as ``.bak`` first: exercises/ is
    generated, but a learner may have typed into it.
    """
    source, dest = Path(source), Path(dest)
    notebooks = sorted(source.glob("*.ipynb"))
    if not notebooks:
        print(f"adamlab assign: no notebooks in {source}")
        return 1
    stale, blocked = [], []
    dest.mkdir(parents=True, exist_ok=True)
    for path in notebooks:
        text = render(path)
        target = dest / path.name
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current == text:
            continue
        stale.append(target)
        if check:
            continue
        if current is not None and not force:
            blocked.append(target)
            continue
        if current is not None:
            target.with_name(target.name + ".bak").write_text(current, encoding="utf-8")
        target.write_text(text, encoding="utf-8")
        print(f"wrote {target}")
    if check:
        for t in stale:
            print(f"out of date: {t} (run `adamlab assign`)")
        return 1 if stale else 0
    for t in blocked:
        print(f"kept {t}: it differs from what assign would write; rerun with --force to replace it (a .bak is kept)")
    return 1 if blocked else 0

"""Catching a graded answer that only hands the work to adamlab's own optimizers or to torch.optim.

Two independent looks: ``static_reason`` reads the answer's source (in the grader this is the submitted
notebook, read in the grader's own process, so nothing the learner's code does at run time can change it),
and ``watch`` records, while the answer runs, every call into adamlab's optimizer modules or into the
algorithm files of torch.optim (its ``Optimizer`` base class is allowed: subclassing it is an exercise).
"""

from __future__ import annotations

import ast
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["static_reason", "watch"]

_ADAMLAB_FORBIDDEN = ("adamlab.numpy", "adamlab.torch", "adamlab.run")
_TORCH_ALLOWED = {"Optimizer", "lr_scheduler", "swa_utils"}


def _dotted(node: ast.AST) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def _forbidden(full: str) -> bool:
    """Whether a fully qualified name is adamlab's optimizer code or a torch.optim algorithm."""
    if full == "adamlab" or any(full == f or full.startswith(f + ".") for f in _ADAMLAB_FORBIDDEN):
        return True
    if full.startswith("torch.optim."):
        return full.split(".")[2] not in _TORCH_ALLOWED
    return False


def _aliases(tree: ast.AST) -> dict[str, str]:
    """Local name -> fully qualified name, from every import in the tree."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                names[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for a in node.names:
                names[a.asname or a.name] = f"{node.module}.{a.name}"
    return names


def static_reason(sources: list[str], target: str, known: dict[str, str] | None = None) -> str | None:
    """Why the definition of ``target`` in these code cells delegates, or None if it does not.

    Cells that do not parse are skipped (the grader reports them elsewhere). Module-level imports and the
    definition's own imports are resolved, so ``an.Adam``, ``Adam`` from ``from torch.optim import Adam``
    and ``torch.optim.Adam`` are all found; ``torch.optim.Optimizer`` is allowed. ``known`` adds names the
    sources do not import themselves (a live function's globals, for the in-notebook check).
    """
    trees = []
    for src in sources:
        try:
            trees.append(ast.parse(src))
        except SyntaxError:
            continue
    aliases: dict[str, str] = dict(known or {})
    definition: ast.AST | None = None
    for tree in trees:
        aliases.update(_aliases(tree))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node.name == target:
                definition = node  # the last definition wins, as when the notebook runs
    if definition is None:
        return None
    aliases.update(_aliases(definition))
    for node in ast.walk(definition):
        if isinstance(node, ast.ImportFrom | ast.Import):
            mods = [node.module] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            for mod in mods:
                if mod and _forbidden(mod if isinstance(node, ast.Import) else f"{mod}.x"):
                    return f"{target} imports {mod}: implement the update yourself instead of calling a library's"
        if isinstance(node, ast.Attribute | ast.Name):
            dotted = _dotted(node)
            if not dotted:
                continue
            head, _, rest = dotted.partition(".")
            full = aliases.get(head, head) + ("." + rest if rest else "")
            if head in aliases and _forbidden(full):
                return f"{target} uses {dotted} ({full}): implement the update yourself instead of calling a library's"
    return None


def _forbidden_files() -> tuple[set[str], str | None]:
    import adamlab

    root = os.path.dirname(os.path.abspath(adamlab.__file__))
    files = {os.path.join(root, f) for f in ("numpy.py", "torch.py", "run.py")}
    optim = None
    if "torch" in sys.modules:
        optim = os.path.dirname(os.path.abspath(sys.modules["torch"].optim.__file__))
    return files, optim


@contextmanager
def watch() -> Iterator[list[str]]:
    """Record calls into adamlab's optimizers or torch.optim's algorithms made inside the block."""
    files, optim = _forbidden_files()
    allowed_optim = {"optimizer.py", "__init__.py", "lr_scheduler.py", "swa_utils.py"}
    found: list[str] = []
    seen: set[str] = set()

    def profile(frame, event, arg):  # noqa: ARG001
        if event != "call":
            return
        path = frame.f_code.co_filename
        if path in seen:
            return
        hit = path in files or (
            optim is not None and path.startswith(optim + os.sep) and os.path.basename(path) not in allowed_optim
        )
        if hit:
            seen.add(path)
            module = (
                "adamlab." + os.path.basename(path)[:-3]
                if path in files
                else "torch.optim." + os.path.basename(path)[:-3]
            )
            found.append(module)

    old = sys.getprofile()
    sys.setprofile(profile)
    try:
        yield found
    finally:
        sys.setprofile(old)

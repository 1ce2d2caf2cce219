"""`adamlab grade SUBMISSIONS --out grades.csv`: grade a class, one kernel per notebook.

What a submission can and cannot do:

- Each notebook runs in its own fresh kernel, in a private temporary working directory holding a copy of it,
  under a wall-clock limit. A cell that raises is reported and the next cells still run; an endless loop
  ends at the limit; output is counted and thrown away, so megabytes of it cost nothing; deleting files in
  the working directory deletes only the copy.
- After the cells, the kernel runs the item collectors (adamlab.grading.harness), which write plain numbers
  to a JSON file outside the working directory. Judging those numbers, reading the notebook's source for
  delegation, and writing grades all happen here, in the grader's process, which never runs learner code.
- Every graded notebook is appended to a journal (``<out>.journal.jsonl``) as soon as it is done. An
  interrupted run loses nothing already graded; running the same command again grades only what is missing
  (or what changed since), then writes the CSV and one feedback file per student. An existing CSV or
  feedback file that would change is kept as ``*.bak`` first.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from adamlab.grading import guard
from adamlab.grading.check import evaluate
from adamlab.grading.harness import load
from adamlab.grading.items import ITEMS, CaseResult, Item

__all__ = ["grade", "Row", "NOTEBOOKS"]

NOTEBOOKS: dict[str, list[Item]] = {}
for _item in ITEMS.values():
    NOTEBOOKS.setdefault(_item.notebook, []).append(_item)

OUTPUT_LIMIT = 1_000_000  # bytes of cell output a notebook may print before we say so (it is never stored)
RESULT_LIMIT = 20_000_000  # bytes of collector JSON we are willing to read
COLUMNS = ["student", "notebook", "exercise", "points", "max_points", "feedback"]


@dataclass(frozen=True)
class Row:
    student: str
    notebook: str
    exercise: str
    points: float
    max_points: int
    feedback: str


def _rows(student: str, notebook: str, results: dict[str, list[CaseResult]], notes: list[str]) -> list[Row]:
    rows = []
    for item in NOTEBOOKS[notebook]:
        res = results[item.name]
        if len(res) > 1 and len({r.message for r in res}) == 1 and not res[0].passed:
            lines = [f"FAIL all {len(res)} cases: {res[0].message}"]
        else:
            lines = [("pass " if r.passed else "FAIL ") + r.label + ("" if r.passed else f": {r.message}") for r in res]
        feedback = "; ".join(lines + [n for n in notes if n])
        rows.append(Row(student, notebook, item.name, sum(r.points for r in res), item.points, feedback))
    return rows


def _zero(student: str, notebook: str, reason: str) -> list[Row]:
    return _rows(
        student, notebook, {i.name: [CaseResult("submission", False, reason, 0)] for i in NOTEBOOKS[notebook]}, []
    )


# ----------------------------------------------------------------------------------------------------------
# One notebook in one kernel.


def _execute(kc: Any, code: str, deadline: float) -> tuple[str, int]:
    """Run one cell; return (status, bytes of output). status: "ok", "error: ...", or "timeout"."""
    msg_id = kc.execute(code, store_history=False, allow_stdin=False, stop_on_error=False)
    status, printed = "ok", 0
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return "timeout", printed
        try:
            msg = kc.get_iopub_msg(timeout=min(remaining, 1.0))
        except queue.Empty:
            continue
        if msg.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind in ("stream", "display_data", "execute_result", "error"):
            printed += len(json.dumps(content, default=str))  # counted, never kept
        if kind == "error":
            status = f"error: {content.get('ename')}: {str(content.get('evalue'))[:200]}"
        if kind == "status" and content.get("execution_state") == "idle":
            return status, printed


def _wait_idle(kc: Any, deadline: float) -> bool:
    """Drain messages until the kernel reports idle (after an interrupt), or the deadline passes."""
    while time.monotonic() < deadline:
        try:
            msg = kc.get_iopub_msg(timeout=0.5)
        except queue.Empty:
            continue
        if msg["msg_type"] == "status" and msg["content"].get("execution_state") == "idle":
            return True
    return False


def _run_notebook(path: Path, items: list[Item], timeout: float) -> tuple[dict[str, Any], list[str]]:
    """Execute a submission and its collectors in a fresh kernel. Returns (collected, notes)."""
    import nbformat
    from jupyter_client.manager import KernelManager

    nb = nbformat.read(str(path), as_version=4)
    cells = [c.source for c in nb.cells if c.cell_type == "code"]
    private = Path(tempfile.mkdtemp(prefix="adamlab-grade-"))
    work = private / "work"  # the submission's cwd; its parent is private to this run
    work.mkdir()
    shutil.copy(path, work / path.name)
    out = private / "collected.json"
    notes: list[str] = []
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JPY_", "JUPYTER_TOKEN"))}
    env.update(MPLBACKEND="Agg", HOME=str(work), PYTHONHASHSEED="0", PYDEVD_DISABLE_FILE_VALIDATION="1")
    km = KernelManager(kernel_name="python3")
    deadline = time.monotonic() + timeout
    kc = None
    try:
        km.start_kernel(cwd=str(work), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=max(5.0, min(60.0, deadline - time.monotonic())))
        printed = 0
        for i, code in enumerate(cells, 1):
            status, n = _execute(kc, code, deadline)
            printed += n
            if status == "timeout":
                notes.append(f"stopped at cell {i}: the notebook ran past the {timeout:g} s limit")
                km.interrupt_kernel()  # end the runaway cell so the answers defined so far can be collected
                _wait_idle(kc, time.monotonic() + 10)
                break
            if status != "ok":
                notes.append(f"cell {i} raised ({status[7:]})")
        if printed > OUTPUT_LIMIT:
            notes.append(f"the notebook printed {printed / 1e6:.1f} MB of output (ignored)")
        # The collectors get their own allowance, so a notebook that used up its time still gets judged on
        # what it defined (an endless loop in one cell should not zero the others).
        harness = (
            "import adamlab.grading.harness as _adamlab_harness\n"
            f"_adamlab_harness.run({[i.name for i in items]!r}, globals(), {str(out)!r})"
        )
        status, _ = _execute(kc, harness, time.monotonic() + max(30.0, timeout / 2))
        if status != "ok":
            notes.append(f"the answers could not be collected ({status})")
        collected: dict[str, Any] = {}
        if out.exists() and out.stat().st_size <= RESULT_LIMIT:
            collected = load(json.loads(out.read_text(encoding="utf-8")))
        return collected, notes
    finally:
        try:
            if kc is not None:
                kc.stop_channels()
            km.shutdown_kernel(now=True)
        except Exception:  # noqa: BLE001 - a kernel that is already gone is fine
            pass
        shutil.rmtree(private, ignore_errors=True)


def grade_notebook(path: Path, student: str, notebook: str, timeout: float) -> list[Row]:
    """Rows for one submitted notebook. Never raises: whatever goes wrong becomes 0 points with a reason."""
    items = NOTEBOOKS[notebook]
    try:
        import nbformat

        nb = nbformat.read(str(path), as_version=4)
        nbformat.validate(nb)
    except Exception as err:  # noqa: BLE001 - invalid JSON, wrong schema, unreadable file...
        return _zero(student, notebook, f"not a valid notebook ({type(err).__name__}: {str(err)[:200]})")
    sources = [c.source for c in nb.cells if c.cell_type == "code"]
    try:
        collected, notes = _run_notebook(path, items, timeout)
    except Exception as err:  # noqa: BLE001
        return _zero(student, notebook, f"the notebook could not be run ({type(err).__name__}: {str(err)[:200]})")
    results = {}
    for item in items:
        got = collected.get(item.name)
        if got is None:
            reason = "the notebook did not finish, so this answer was not collected" if notes else "no answer collected"
            results[item.name] = [CaseResult("answer", False, reason, 0)]
            continue
        if "missing" in got:
            results[item.name] = [CaseResult("answer", False, got["missing"], 0)]
            continue
        delegation = guard.static_reason(sources, item.target)
        if not delegation and got.get("calls"):
            delegation = f"{item.target} calls {', '.join(got['calls'])}: implement the update yourself"
        try:
            results[item.name] = evaluate(item, got.get("outputs", {}), delegation)
        except Exception as err:  # noqa: BLE001 - malformed collector output counts against that item only
            results[item.name] = [CaseResult("answer", False, f"unreadable answer ({type(err).__name__})", 0)]
    return _rows(student, notebook, results, notes)


# ----------------------------------------------------------------------------------------------------------
# A class: the journal, the CSV and the feedback files.


def _digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return "missing"


def _safe_cell(text: str) -> str:
    """No spreadsheet formulas from learner-controlled text."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _write_keeping(path: Path, text: str) -> None:
    """Write atomically; if a different file is already there, keep it as .bak (.bak1, ...) first."""
    if path.exists():
        if path.read_text(encoding="utf-8", errors="replace") == text:
            return
        backup, n = path.with_name(path.name + ".bak"), 0
        while backup.exists():
            n += 1
            backup = path.with_name(f"{path.name}.bak{n}")
        shutil.copy2(path, backup)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _tasks(submissions: Path) -> tuple[list[tuple[str, str, Path]], dict[str, list[str]]]:
    tasks, ignored = [], {}
    for student_dir in sorted(p for p in submissions.iterdir() if p.is_dir() and not p.name.startswith(".")):
        names = {p.stem: p for p in student_dir.glob("*.ipynb")}
        ignored[student_dir.name] = sorted(n + ".ipynb" for n in names if n not in NOTEBOOKS)
        for notebook in NOTEBOOKS:
            tasks.append((student_dir.name, notebook, names.get(notebook, student_dir / f"{notebook}.ipynb")))
    return tasks, ignored


def _read_journal(path: Path) -> dict[tuple[str, str], dict]:
    done: dict[tuple[str, str], dict] = {}
    if not path.exists():
        return done
    text = path.read_text(encoding="utf-8")
    if text and not text.endswith("\n"):  # cut short by an interruption: end the line before appending
        with open(path, "a", encoding="utf-8") as f:
            f.write("\n")
    for line in text.splitlines():
        try:
            entry = json.loads(line)
            done[(entry["student"], entry["notebook"])] = entry
        except (json.JSONDecodeError, KeyError, TypeError):
            continue  # a line cut short by an interruption: that notebook is graded again
    return done


def grade(
    submissions: str | os.PathLike,
    out: str | os.PathLike,
    *,
    timeout: float = 120.0,
    jobs: int = 1,
    log: Any = sys.stderr,
) -> list[Row]:
    """Grade every SUBMISSIONS/<student>/<notebook>.ipynb; write the CSV and feedback; return the rows."""
    submissions, out = Path(submissions), Path(out)
    if not submissions.is_dir():
        raise FileNotFoundError(f"{submissions} is not a folder of SUBMISSIONS/<student>/<notebook>.ipynb")
    out.parent.mkdir(parents=True, exist_ok=True)
    journal_path = out.with_name(out.name + ".journal.jsonl")
    done = _read_journal(journal_path)
    tasks, ignored = _tasks(submissions)
    todo = [t for t in tasks if done.get((t[0], t[1]), {}).get("digest") != _digest(t[2])]
    print(f"grading {len(todo)} notebooks ({len(tasks) - len(todo)} already graded) with {jobs} job(s)", file=log)
    lock = threading.Lock()

    def one(task: tuple[str, str, Path]) -> None:
        student, notebook, path = task
        digest = _digest(path)
        if digest == "missing":
            rows = _zero(student, notebook, f"not submitted ({notebook}.ipynb not found)")
        else:
            rows = grade_notebook(path, student, notebook, timeout)
        entry = {"student": student, "notebook": notebook, "digest": digest, "rows": [asdict(r) for r in rows]}
        with lock:
            with open(journal_path, "a", encoding="utf-8") as f:
                f.write(json.dumps(entry) + "\n")
                f.flush()
                os.fsync(f.fileno())
            done[(student, notebook)] = entry
            got = sum(r.points for r in rows)
            print(f"  {student}/{notebook}: {got:g}/{sum(r.max_points for r in rows)}", file=log)

    pool = ThreadPoolExecutor(max_workers=max(1, jobs))
    try:
        for f in as_completed([pool.submit(one, t) for t in todo]):
            f.result()
    except KeyboardInterrupt:
        pool.shutdown(wait=False, cancel_futures=True)
        print(f"interrupted: what was graded is kept in {journal_path}; run the same command to finish", file=log)
        raise
    pool.shutdown()

    rows = [Row(**r) for s, n, _ in tasks for r in done[(s, n)]["rows"]]
    _write_outputs(out, rows, ignored)
    return rows


def _write_outputs(out: Path, rows: list[Row], ignored: dict[str, list[str]]) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in rows:
        writer.writerow(
            [_safe_cell(r.student), r.notebook, r.exercise, f"{r.points:g}", r.max_points, _safe_cell(r.feedback)]
        )
    _write_keeping(out, buf.getvalue())
    folder = out.with_name(out.stem + "_feedback")
    folder.mkdir(exist_ok=True)
    for student, mine in _by_student(rows):
        total, best = sum(r.points for r in mine), sum(r.max_points for r in mine)
        lines = [f"# Feedback for {student}", "", f"Total: {total:g} / {best} points", ""]
        for notebook in dict.fromkeys(r.notebook for r in mine):
            lines += [f"## {notebook}", ""]
            rows_nb = [r for r in mine if r.notebook == notebook]
            if all(r.feedback.endswith("not found)") for r in rows_nb):
                lines += [f"Not submitted: 0/{sum(r.max_points for r in rows_nb)} points.", ""]
                continue
            for r in rows_nb:
                lines.append(f"- **{ITEMS[r.exercise].title}** ({r.exercise}): {r.points:g}/{r.max_points}")
                lines += [f"  - {part}" for part in r.feedback.split("; ") if part]
            lines.append("")
        if ignored.get(student):
            lines.append(f"Not graded (not an exercise notebook): {', '.join(ignored[student])}")
        _write_keeping(folder / f"{student}.md", "\n".join(lines) + "\n")


def _by_student(rows: Iterable[Row]) -> list[tuple[str, list[Row]]]:
    groups: dict[str, list[Row]] = {}
    for r in rows:
        groups.setdefault(r.student, []).append(r)
    return list(groups.items())

"""The workshop kit: `adamlab doctor`, `adamlab workspace`, `adamlab lab` and `adamlab site`.

- ``doctor``: a preflight check of a workshop machine, one line per check (OK, WARN or FAIL) with what to do
  about each failure; exit status 1 when something blocks the course.
- ``workspace DIR``: copy the course (notebooks/ and exercises/) into a learner's own folder. A file that
  exists is never overwritten: running it again adds what is new upstream and lists what it left alone.
- ``lab [DIR]``: the same copy, then JupyterLab in DIR on notebooks/00_welcome.ipynb.
- ``site``: every notebook executed and rendered to a static HTML site with a course map, links between the
  pages rewritten from .ipynb to .html, figures embedded.

The course files are found beside the package in a source checkout (the editable install ``make lab`` makes),
under ``$ADAMLAB_COURSE`` if set, or under ``<sys.prefix>/share/adamlab``.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import html
import json
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "COURSE",
    "CourseNotFound",
    "course_root",
    "course_files",
    "Check",
    "run_checks",
    "doctor_main",
    "WorkspaceReport",
    "make_workspace",
    "lab_command",
    "parse_lab_args",
    "lab_main",
    "render_page",
    "build_site",
]

COURSE_DIRS = ("notebooks", "exercises")
MANIFEST = ".adamlab-workspace.json"
SITE_MARKER = ".adamlab-site"
DEFAULT_WORKSPACE = "adamlab-workspace"
FIRST_NOTEBOOK = "notebooks/00_welcome.ipynb"

# The course map: (notebook stem, or its number while the name is not fixed; title; what it teaches; status).
COURSE: list[tuple[str, str, str, str]] = [
    ("00_welcome", "Welcome", "the course map, the widgets, a check of your set-up, how exercises are checked", ""),
    ("01_gradient_descent", "Gradient descent and SGD", "the update, the 2/L threshold, conditioning, noise", ""),
    ("02_momentum", "Momentum and Nesterov", "the heavy ball, the velocity as a running sum, dampening, Nesterov", ""),
    ("03_adagrad", "AdaGrad", "per-parameter learning rates; sparse features; why its steps only shrink", ""),
    ("04_rmsprop_adadelta", "RMSprop and Adadelta", "moving averages instead of sums; centered RMSprop; Adadelta", ""),
    ("05_moments", "Moments", "the first and second moments as moving averages; what beta1 and beta2 remember", ""),
    ("06_bias_correction", "Bias correction", "why averages started at zero are biased, and the 1 - beta^t fix", ""),
    ("07_adam", "Adam", "Algorithm 1 beside adamlab and torch.optim; the step bound; scale invariance", ""),
    ("08_amsgrad", "AMSGrad", "Reddi et al.'s counterexample reproduced; the running maximum", ""),
    ("09_nadam", "Nadam", "Nesterov inside Adam; torch's and Keras' momentum schedules", ""),
    ("10_weight_decay", "Weight decay: L2 against AdamW", "why L2 is not weight decay for Adam; decoupled decay", ""),
    ("11_tuning", "Tuning Adam", "a tuning order with evidence; the range test; learning-rate schedules", ""),
    ("12_epsilon_half_precision", "Epsilon and half precision", "what eps protects; float16, bfloat16", ""),
    ("13_real_network", "Training a real network", "a PyTorch loop with early stopping; eight optimizers compared", ""),
    ("14_keras", "The same model in Keras", "Keras 3 on PyTorch: its names, defaults and eps against torch's", ""),
    ("15_choosing", "Choosing an optimizer", "a fair race on every problem; the claims about Adam tested", ""),
    ("16_memory_bound", "Why Adam is memory-bound", "bytes per parameter, the roofline, loop vs foreach vs fused", ""),
]


# ----------------------------------------------------------------------------------------------------------
# Where the course files are.


class CourseNotFound(RuntimeError):
    """The notebooks/ and exercises/ folders could not be found."""


def _candidates() -> list[Path]:
    import adamlab

    out = []
    if os.environ.get("ADAMLAB_COURSE"):
        out.append(Path(os.environ["ADAMLAB_COURSE"]).expanduser())
    out.append(Path(adamlab.__file__).resolve().parent.parent)  # a source checkout (editable install)
    out.append(Path(sys.prefix) / "share" / "adamlab")  # where a wheel could put them
    return out


def course_root() -> Path:
    """The folder that holds the course's notebooks/ and exercises/; CourseNotFound with advice if none does."""
    tried = _candidates()
    for root in tried:
        if any((root / "notebooks").glob("*.ipynb")):
            return root.resolve()
    import adamlab

    raise CourseNotFound(
        "cannot find the course notebooks: looked for notebooks/*.ipynb in "
        + ", ".join(str(p) for p in tried)
        + f". adamlab is imported from {Path(adamlab.__file__).parent}; the course files come with a source "
        "checkout: clone the repository and run `make lab` (or `pip install -e .`) in it, or set ADAMLAB_COURSE "
        "to the folder that holds notebooks/ and exercises/."
    )


def _skip(part: str) -> bool:
    return part.startswith(".") or part in ("__pycache__",)


def course_files(root: Path) -> list[str]:
    """The files a learner works with, as POSIX paths relative to ``root``: notebooks/ and exercises/."""
    files = []
    for top in COURSE_DIRS:
        base = root / top
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            rel = path.relative_to(root)
            if path.is_file() and not any(_skip(p) for p in rel.parts):
                files.append(rel.as_posix())
    return files


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ----------------------------------------------------------------------------------------------------------
# adamlab workspace DIR


@dataclass
class WorkspaceReport:
    dest: Path
    source: Path
    copied: list[str] = field(default_factory=list)  # new in the workspace
    unchanged: list[str] = field(default_factory=list)  # already there, identical to the course's version
    kept: list[str] = field(default_factory=list)  # already there and different: the learner's file is kept
    updated_upstream: list[str] = field(default_factory=list)  # of kept: the course's version changed since
    untouched_old: list[str] = field(default_factory=list)  # of those: the learner never edited their copy
    blocked: list[str] = field(default_factory=list)  # a folder or something else stands where a file would go
    same_folder: bool = False  # DIR is the course itself

    def summary(self, verbose: bool = False) -> str:
        if self.same_folder:
            return f"{self.dest} is the course itself: nothing to copy"
        lines = [
            f"workspace {self.dest}: {len(self.copied)} new file(s) copied, {len(self.unchanged)} unchanged, "
            f"{len(self.kept)} kept as you left them"
        ]
        shown = self.copied if verbose or len(self.copied) <= 40 else self.copied[:40]
        lines += [f"  new    {rel}" for rel in shown]
        if len(shown) < len(self.copied):
            lines.append(f"  ... and {len(self.copied) - len(shown)} more")
        for rel in self.kept:
            if rel in self.updated_upstream:
                why = (
                    "you have not edited it: delete it and run this again to get the new one"
                    if rel in self.untouched_old
                    else "your edits are kept"
                )
                lines.append(f"  kept   {rel}  (a newer version is in the course: {self.source / rel}; {why})")
            else:
                lines.append(f"  kept   {rel}  (yours differs from the course's version)")
        lines += [f"  SKIP   {rel}  (something that is not a file is in the way)" for rel in self.blocked]
        return "\n".join(lines)


def _read_manifest(dest: Path) -> dict[str, str]:
    try:
        data = json.loads((dest / MANIFEST).read_text(encoding="utf-8"))
        files = data.get("files", {})
        return {str(k): str(v) for k, v in files.items()} if isinstance(files, dict) else {}
    except (OSError, ValueError, AttributeError):
        return {}


def _write_manifest(dest: Path, source: Path, files: dict[str, str]) -> None:
    text = json.dumps(
        {
            "about": "written by `adamlab workspace`: the course version each file was copied from",
            "source": str(source),
            "files": dict(sorted(files.items())),
        },
        indent=1,
    )
    tmp = dest / f".{MANIFEST}.tmp"
    tmp.write_text(text + "\n", encoding="utf-8")
    os.replace(tmp, dest / MANIFEST)


def _copy_new(src: Path, dest: Path) -> bool:
    """Copy src to dest only if dest does not exist (O_EXCL: even a file that appears meanwhile is kept)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    data = src.read_bytes()
    try:
        fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o644)
    except FileExistsError:
        return False
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
    except BaseException:
        os.unlink(dest)  # ours: created by the O_EXCL open above
        raise
    return True


def make_workspace(dest: str | os.PathLike, *, source: Path | None = None, dry_run: bool = False) -> WorkspaceReport:
    """Copy the course's notebooks/ and exercises/ into ``dest``, never overwriting or deleting anything."""
    source = (source or course_root()).resolve()
    dest = Path(dest).expanduser()
    report = WorkspaceReport(dest=dest.resolve() if dest.exists() else dest.absolute(), source=source)
    if dest.exists() and dest.resolve() == source:
        report.same_folder = True
        return report
    if dest.exists() and not dest.is_dir():
        raise NotADirectoryError(f"{dest} exists and is not a folder")
    for top in COURSE_DIRS:  # a workspace inside the course would copy itself into itself, deeper at every run
        if dest.absolute().resolve().is_relative_to((source / top).resolve()):
            raise ValueError(f"{dest} is inside the course's {top}/ folder: choose a folder outside it")
    base = _read_manifest(dest) if dest.is_dir() else {}
    manifest = dict(base)
    for rel in course_files(source):
        src, target = source / rel, dest / rel
        upstream = _sha(src)
        if not os.path.lexists(target):
            if dry_run or _copy_new(src, target):
                report.copied.append(rel)
                manifest[rel] = upstream
                continue
        if target.is_symlink() or not target.is_file():  # a link or a folder: leave it alone
            report.blocked.append(rel)
            continue
        mine = _sha(target)
        if mine == upstream:
            report.unchanged.append(rel)
            manifest[rel] = upstream
            continue
        report.kept.append(rel)
        if rel in base and base[rel] != upstream:  # the course changed since this copy was made
            report.updated_upstream.append(rel)
            if mine == base[rel]:
                report.untouched_old.append(rel)
    if not dry_run:
        dest.mkdir(parents=True, exist_ok=True)
        _write_manifest(dest, source, manifest)
    return report


# ----------------------------------------------------------------------------------------------------------
# adamlab lab [DIR] [JUPYTER_ARGS...]

LAB_USAGE = """usage: adamlab lab [DIR] [--dry-run] [JUPYTER_ARGS ...] [-- JUPYTER_ARGS ...]

Copy the course into DIR (default: ./adamlab-workspace) the way `adamlab workspace` does (nothing there is
ever overwritten; new course files are added), then start JupyterLab in DIR on notebooks/00_welcome.ipynb.
DIR, if given, comes first; every other argument goes to `jupyter lab`, e.g.

  adamlab lab my-work --no-browser --port 8899

options:
  -h, --help  show this help and exit
  --dry-run   print what would be copied and the command that would run; do nothing
  --          everything after it goes to jupyter lab as it is
"""


def parse_lab_args(tokens: Sequence[str]) -> tuple[str | None, list[str], bool]:
    """``adamlab lab`` arguments -> (DIR or None, the arguments for jupyter lab, dry_run)."""
    tokens = list(tokens)
    after: list[str] = []
    if "--" in tokens:
        i = tokens.index("--")
        tokens, after = tokens[:i], tokens[i + 1 :]
    directory = None
    if tokens and not tokens[0].startswith("-"):
        directory, tokens = tokens[0], tokens[1:]
    dry_run = "--dry-run" in tokens
    return directory, [t for t in tokens if t != "--dry-run"] + after, dry_run


def _opens_something(jupyter_args: Sequence[str]) -> bool:
    return any(not a.startswith("-") and a.endswith(".ipynb") for a in jupyter_args)


def lab_command(
    directory: str | os.PathLike, jupyter_args: Sequence[str] = (), *, as_root: bool | None = None
) -> tuple[list[str], Path]:
    """The command line that starts JupyterLab in ``directory`` (its root folder), and the folder to run it in.

    As root (a container, a fresh cloud machine) JupyterLab refuses to start unless told it may: the flag is
    added then, so `make lab` works there too.
    """
    directory = Path(directory).expanduser().absolute()
    if as_root is None:
        as_root = hasattr(os, "geteuid") and os.geteuid() == 0
    # root_dir explicitly: given only a notebook, Jupyter would serve the notebook's folder and hide exercises/
    argv = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={directory}"]
    if as_root and not any("allow_root" in a or a == "--allow-root" for a in jupyter_args):
        argv.append("--ServerApp.allow_root=True")
    if (directory / FIRST_NOTEBOOK).is_file() and not _opens_something(jupyter_args):
        argv.append(FIRST_NOTEBOOK)
    return argv + list(jupyter_args), directory


def lab_main(tokens: Sequence[str], *, run: Callable[[list[str], Path], int] | None = None) -> int:
    if any(t in ("-h", "--help") for t in (tokens[: tokens.index("--")] if "--" in tokens else tokens)):
        print(LAB_USAGE, end="")
        return 0
    directory, jupyter_args, dry_run = parse_lab_args(tokens)
    directory = directory or DEFAULT_WORKSPACE
    try:
        report = make_workspace(directory, dry_run=dry_run)
        print(report.summary())
    except CourseNotFound as err:
        if not Path(directory).is_dir():
            print(f"adamlab: error: {err}", file=sys.stderr)
            return 2
        print(f"adamlab: warning: {err}\nopening {directory} as it is", file=sys.stderr)
    except (OSError, ValueError) as err:
        print(f"adamlab: error: {err}", file=sys.stderr)
        return 2
    argv, cwd = lab_command(directory, jupyter_args)
    print(f"starting JupyterLab in {cwd}: {' '.join(argv[1:])}", flush=True)
    if dry_run:
        return 0
    return (run or _exec)(argv, cwd)


def _exec(argv: list[str], cwd: Path) -> int:
    os.chdir(cwd)
    if os.name == "posix":  # JupyterLab takes over this process: Ctrl-C and its questions work as usual
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(argv[0], argv)
    import subprocess

    try:
        return subprocess.call(argv)
    except KeyboardInterrupt:
        return 130


def workspace_main(directory: str, *, dry_run: bool = False, verbose: bool = False) -> int:
    try:
        report = make_workspace(directory, dry_run=dry_run)
    except (CourseNotFound, OSError, ValueError) as err:
        print(f"adamlab: error: {err}", file=sys.stderr)
        return 2
    print(("(dry run: nothing written)\n" if dry_run else "") + report.summary(verbose=verbose))
    if not report.same_folder and not dry_run:
        print(f"open it with: adamlab lab {directory}")
    return 0


# ----------------------------------------------------------------------------------------------------------
# adamlab doctor

# The minimum versions, as in pyproject.toml (a test keeps them equal): (distribution, import name, minimum).
PACKAGES: list[tuple[str, str, str]] = [
    ("numpy", "numpy", "1.24"),
    ("matplotlib", "matplotlib", "3.7"),
    ("ipywidgets", "ipywidgets", "8.1"),
    ("jupyterlab", "jupyterlab", "4.2"),
    ("torch", "torch", "2.13"),
    ("scikit-learn", "sklearn", "1.4"),
    ("nbformat", "nbformat", "5.9"),
    ("nbclient", "nbclient", "0.10"),
    ("ipykernel", "ipykernel", "6.29"),
]
TORCH_SERIES = "2.13"  # the release the course's claims are checked against
WIDGETS_EXTENSION = "@jupyter-widgets/jupyterlab-manager"
MIN_FREE_BYTES = 1_000_000_000


@dataclass
class Check:
    name: str
    status: str  # "OK", "WARN" or "FAIL"
    found: str
    fix: str = ""

    def line(self) -> str:
        text = f"{self.status:<5}{self.name:<14}{self.found}"
        return text + (f"\n{'':19}-> {self.fix}" if self.fix else "")


def _dist_version(dist: str) -> str | None:
    """The installed version of a distribution, or None. (Tests replace this to simulate a missing package.)"""
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _older(version: str, minimum: str) -> bool:
    try:
        from packaging.version import Version

        return Version(version) < Version(minimum)
    except Exception:  # noqa: BLE001 - no packaging, or an odd version string: compare the leading numbers

        def nums(v: str) -> tuple[int, ...]:
            return tuple(int(x) for x in re.findall(r"\d+", v)[:3])

        return nums(version) < nums(minimum)


def _python() -> str:
    """This environment's Python, as a learner would type it: pip must install into this environment."""
    exe = sys.executable
    return f'"{exe}"' if " " in exe else exe


def _pip(spec: str) -> str:
    return f'{_python()} -m pip install "{spec}"  (or run `make lab` in the course folder)'


def _check_python() -> Check:
    v = sys.version_info
    found = f"{v.major}.{v.minor}.{v.micro} ({sys.executable})"
    if v < (3, 10):
        return Check("python", "FAIL", found, "the course needs Python 3.10 or newer: install it, then run make lab")
    return Check("python", "OK", found)


def _check_package(dist: str, minimum: str) -> Check:
    version = _dist_version(dist)
    spec = "torch==2.13.0" if dist == "torch" else f"{dist}>={minimum}"
    if version is None:
        return Check(dist, "FAIL", "not installed", _pip(spec))
    if _older(version, minimum):
        return Check(dist, "FAIL", f"{version}, older than the {minimum} the course needs", _pip(spec))
    if dist == "torch" and not version.startswith(TORCH_SERIES + "."):
        return Check(
            dist, "WARN", f"{version}; the course's claims are checked against torch {TORCH_SERIES}", _pip(spec)
        )
    return Check(dist, "OK", version)


def _check_adamlab() -> Check:
    import adamlab

    where = Path(adamlab.__file__).resolve().parent
    version = _dist_version("adamlab") or "not installed as a package"
    return Check("adamlab", "OK", f"{version}, imported from {where}")


def _check_course() -> Check:
    try:
        root = course_root()
    except CourseNotFound as err:
        return Check("course files", "WARN", "notebooks/ not found (adamlab workspace and lab need them)", str(err))
    n = len(list((root / "notebooks").glob("*.ipynb")))
    m = len(list((root / "exercises").glob("*.ipynb")))
    return Check("course files", "OK", f"{n} notebooks, {m} exercise notebooks in {root}")


def _labextension_dirs() -> list[Path]:
    try:
        from jupyter_core.paths import jupyter_path

        return [Path(p) for p in jupyter_path("labextensions")]
    except ImportError:
        return [Path(sys.prefix) / "share" / "jupyter" / "labextensions"]


def _disabled_in_page_config(extension: str) -> str | None:
    """The page_config.json that disables ``extension`` (JupyterLab's `labextension disable`), or None."""
    try:
        from jupyter_core.paths import jupyter_config_path
    except ImportError:
        return None
    state, where = False, None
    for folder in reversed(jupyter_config_path()):  # lowest precedence first; later ones override
        path = Path(folder) / "labconfig" / "page_config.json"
        try:
            disabled = json.loads(path.read_text(encoding="utf-8")).get("disabledExtensions", {})
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(disabled, list):
            disabled = dict.fromkeys(disabled, True)
        for key, value in (disabled or {}).items():
            if key == extension or key.startswith(extension + ":"):
                state, where = bool(value), str(path)
    return where if state else None


def _check_widgets_extension() -> Check:
    version = _dist_version("jupyterlab_widgets")
    if version is None:
        return Check(
            "widgets",
            "FAIL",
            "jupyterlab_widgets (the sliders' front end) is not installed",
            _pip("jupyterlab_widgets") + "; then restart JupyterLab",
        )
    found = [d for d in _labextension_dirs() if (d / WIDGETS_EXTENSION / "package.json").is_file()]
    if not found:
        return Check(
            "widgets",
            "FAIL",
            f"jupyterlab_widgets {version} is installed but {WIDGETS_EXTENSION} is in no labextensions folder",
            f'{_python()} -m pip install --force-reinstall "jupyterlab_widgets"',
        )
    disabled = _disabled_in_page_config(WIDGETS_EXTENSION)
    if disabled:
        return Check(
            "widgets",
            "FAIL",
            f"{WIDGETS_EXTENSION} is disabled in {disabled}",
            f"jupyter labextension enable {WIDGETS_EXTENSION}",
        )
    return Check("widgets", "OK", f"jupyterlab_widgets {version}, {WIDGETS_EXTENSION} enabled ({found[0]})")


def _check_matplotlib() -> Check:
    t = time.perf_counter()
    try:
        import io

        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        fig = Figure(figsize=(1, 1), dpi=40)
        FigureCanvasAgg(fig)
        fig.add_subplot().plot([0, 1], [1, 0])
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        png = buf.getvalue()
    except Exception as err:  # noqa: BLE001 - whatever breaks, say so
        return Check("figures", "FAIL", f"cannot draw a figure: {type(err).__name__}: {err}", _pip("matplotlib"))
    if not png.startswith(b"\x89PNG"):
        return Check("figures", "FAIL", "the Agg backend did not produce a PNG", _pip("matplotlib"))
    found = f"Agg drew a PNG ({len(png)} bytes, {1e3 * (time.perf_counter() - t):.0f} ms)"
    if _dist_version("matplotlib-inline") is None:
        return Check(
            "figures",
            "WARN",
            found + "; matplotlib-inline missing: no figures in notebooks",
            _pip("matplotlib-inline"),
        )
    return Check("figures", "OK", found)


def _check_gpu() -> Check:
    """Informational: a GPU is never needed, so this is never a failure (a broken torch is, in _check_torch)."""
    try:
        import torch
    except Exception as err:  # noqa: BLE001
        return Check(
            "gpu", "WARN", f"cannot tell: torch does not import ({type(err).__name__}: {err})", _pip("torch==2.13.0")
        )
    try:
        if torch.cuda.is_available():
            names = ", ".join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count()))
            return Check("gpu", "OK", f"CUDA {torch.version.cuda}: {names}")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return Check("gpu", "OK", "Apple GPU (mps) visible")
    except Exception as err:  # noqa: BLE001
        return Check("gpu", "OK", f"none usable ({type(err).__name__}); the course runs on the CPU")
    build = "CPU build" if torch.version.cuda is None else f"CUDA {torch.version.cuda} build, no GPU visible"
    return Check("gpu", "OK", f"none ({build}); every notebook runs on the CPU")


def _check_kernel(timeout: float = 60.0) -> Check:
    """Start a python3 kernel the way JupyterLab does, run 1 + 1 in it, and shut it down."""
    import subprocess

    t = time.perf_counter()
    try:
        from jupyter_client.kernelspec import NoSuchKernel
        from jupyter_client.manager import KernelManager
    except ImportError as err:
        return Check("kernel", "FAIL", f"jupyter_client is missing ({err})", _pip("ipykernel>=6.29"))
    km = KernelManager(kernel_name="python3")
    kc = None
    try:
        spec = km.kernel_spec
        km.start_kernel(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=timeout)
        code = "import sys\ntry:\n    import adamlab\n    _ok = 'yes'\nexcept Exception as e:\n    _ok = repr(e)\n"
        expressions = {"two": "1 + 1", "exe": "sys.executable", "adamlab": "_ok"}
        reply = kc.execute_interactive(code, user_expressions=expressions, timeout=timeout, output_hook=lambda m: None)
        got = {k: v.get("data", {}).get("text/plain", "?") for k, v in reply["content"]["user_expressions"].items()}
    except NoSuchKernel:
        return Check(
            "kernel",
            "FAIL",
            "no python3 kernel is installed",
            f"{_python()} -m ipykernel install --sys-prefix",
        )
    except Exception as err:  # noqa: BLE001 - a kernel that does not start, for whatever reason
        return Check(
            "kernel",
            "FAIL",
            f"the python3 kernel did not start: {type(err).__name__}: {str(err)[:200]}",
            _pip("ipykernel>=6.29") + f"; then `{_python()} -m ipykernel install --sys-prefix`",
        )
    finally:
        try:
            if kc is not None:
                kc.stop_channels()
            km.shutdown_kernel(now=True)
        except Exception:  # noqa: BLE001 - it may never have started
            pass
    seconds = time.perf_counter() - t
    exe = got.get("exe", "?").strip("'\"")
    where = f"kernel spec {spec.resource_dir if spec else '?'}"
    if got.get("two") != "2":
        return Check("kernel", "FAIL", f"1 + 1 gave {got.get('two')!r} in the python3 kernel", "reinstall ipykernel")
    if got.get("adamlab", "").strip("'\"") != "yes":
        return Check(
            "kernel",
            "FAIL",
            f"the python3 kernel runs {exe}, which cannot import adamlab ({where})",
            f"make the kernel use this environment: {_python()} -m ipykernel install --sys-prefix, "
            "and remove the other spec (jupyter kernelspec list)",
        )
    status = "OK" if seconds < 15 else "WARN"
    return Check(
        "kernel",
        status,
        f"python3 started and ran 1 + 1 = 2 in {seconds:.1f} s ({exe})",
        "" if status == "OK" else "a slow disk or antivirus? the first start after install is slower",
    )


def _check_disk(folder: Path | None = None) -> Check:
    folder = folder or Path.cwd()
    free = shutil.disk_usage(folder).free
    found = f"{free / 1e9:.1f} GB free in {folder}"
    if free < MIN_FREE_BYTES:
        return Check("disk", "WARN", found, "free some space: the course and its kernels want about 1 GB")
    return Check("disk", "OK", found)


def run_checks(*, kernel: bool = True) -> list[Check]:
    """Every check, in the order they are printed. The kernel starts in a thread while the others run."""
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_workers=1)
    pending = pool.submit(_check_kernel) if kernel else None
    checks = [_check_python(), _check_adamlab(), _check_course()]
    checks += [_check_package(dist, minimum) for dist, _, minimum in PACKAGES]
    checks += [_check_widgets_extension(), _check_matplotlib()]
    torch_ok = next(c for c in checks if c.name == "torch").status != "FAIL"
    checks.append(_check_gpu() if torch_ok else Check("gpu", "WARN", "cannot tell without torch"))
    if pending is not None:
        checks.append(pending.result())
    pool.shutdown()
    checks.append(_check_disk())
    return checks


def doctor_main(*, as_json: bool = False, kernel: bool = True, out: Any = None) -> int:
    out = out or sys.stdout
    t = time.perf_counter()
    checks = run_checks(kernel=kernel)
    failed = [c for c in checks if c.status == "FAIL"]
    warned = [c for c in checks if c.status == "WARN"]
    if as_json:
        json.dump({"ok": not failed, "checks": [asdict(c) for c in checks]}, out, indent=1)
        out.write("\n")
    else:
        print("adamlab doctor: is this machine ready for the course?", file=out)
        for c in checks:
            print(c.line(), file=out)
        seconds = time.perf_counter() - t
        if failed:
            names = ", ".join(c.name for c in failed)
            print(
                f"NOT READY: {len(failed)} check(s) failed ({names}); fix them as shown above ({seconds:.1f} s)",
                file=out,
            )
        else:
            note = f" ({len(warned)} warning(s) to read)" if warned else ""
            print(f"READY: nothing blocks the course{note} ({seconds:.1f} s)", file=out)
    return 1 if failed else 0


# ----------------------------------------------------------------------------------------------------------
# adamlab site

_HREF = re.compile(r'(\shref=)"([^"]*)"')
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
WIDGET_NOTE = (
    '<div class="adamlab-widget-note">&#9654; <b>Interactive app.</b> Its sliders need a running kernel: open '
    "this notebook in JupyterLab (<code>make lab</code>) to play with it. The figure beside it shows the same "
    "idea.</div>"
)
NAV_CSS = """<style>
.adamlab-nav{position:sticky;top:0;z-index:100;display:flex;flex-wrap:wrap;gap:4px 18px;align-items:center;
 justify-content:space-between;padding:8px 20px;margin:0 0 12px 0;background:#f6f7f9;border-bottom:1px solid #d0d4da;
 font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif}
.adamlab-nav a{color:#1a5fb4;text-decoration:none}.adamlab-nav a:hover{text-decoration:underline}
.adamlab-nav .adamlab-home{font-weight:600}.adamlab-nav .adamlab-pn{display:flex;gap:18px}
.adamlab-foot{border-top:1px solid #d0d4da;border-bottom:none;margin:24px 0 0 0;position:static}
.adamlab-widget-note{padding:8px 12px;background:#fff8e1;border-left:4px solid #f0b400;font:14px/1.4 system-ui,
 sans-serif;color:#333;margin:4px 0}
.adamlab-stamp{padding:0 20px 8px 20px;color:#666;font:12px system-ui,sans-serif}
</style>"""


# With the bundled MathJax 2.7 the browser typesets the formulas as native MathML: its HTML-CSS output measures
# web fonts that a page opened from disk does not always get, and then misplaces hats and roots. MathML Core has no
# columnalign, so CSS aligns the columns of aligned and cases.
NATIVE_MATHML = """<script type="text/x-mathjax-config">
MathJax.Hub.Register.StartupHook("End Jax", function () { return MathJax.Hub.setRenderer("NativeMML"); });
</script>
<style>
mtable[columnalign^="right left"] > mtr > mtd:nth-child(odd) {text-align: right}
mtable[columnalign^="right left"] > mtr > mtd:nth-child(even) {text-align: left}
mtable[columnalign^="left"] > mtr > mtd {text-align: left}
</style>"""


def _notebook_title(nb: Any, fallback: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            m = re.search(r"^#\s+(.+?)\s*$", cell.source, flags=re.M)
            if m:
                return re.sub(r"[*_`$]", "", m.group(1))
    return fallback


def _local_mathjax() -> Path | None:
    """MathJax 2.7 from the jupyter-server-mathjax package, if installed: a site that renders formulas offline."""
    import importlib.util

    spec = importlib.util.find_spec("jupyter_server_mathjax")
    if spec is None or not spec.submodule_search_locations:
        return None
    static = Path(next(iter(spec.submodule_search_locations))) / "static"
    return static if (static / "MathJax.js").is_file() else None


def _rewrite_href(href: str, page: str, pages: set[str]) -> str:
    """A link in page ``page`` (site-relative, POSIX) to ``href``, made to work in the site."""
    raw = html.unescape(href)
    if not raw or raw.startswith(("#", "/", "//")) or _SCHEME.match(raw):
        return href
    path, sep, frag = raw.partition("#")
    path, qsep, query = path.partition("?")
    here = os.path.dirname(page)
    target = os.path.normpath(os.path.join(here, path)).replace(os.sep, "/")

    def rel(to: str) -> str:
        return os.path.relpath(to, here or ".").replace(os.sep, "/")

    new = None
    if path.endswith(".ipynb"):
        html_target = target[: -len(".ipynb")] + ".html"
        if html_target in pages:
            new = rel(html_target) + qsep + query + sep + frag
        else:  # a notebook not in the site (not written yet): its entry on the course map
            stem = os.path.basename(target)[: -len(".ipynb")]
            m = re.match(r"(\d\d)", stem)
            new = rel("index.html") + (f"#nb{m.group(1)}" if m else "")
    elif path.endswith("/") or target in {p.split("/")[0] for p in pages}:
        new = rel("index.html") + "#" + target.strip("/").split("/")[-1]
    return href if new is None else html.escape(new, quote=True)


def rewrite_links(text: str, page: str, pages: Iterable[str]) -> str:
    """Every relative href in ``text`` to a notebook becomes a link to its page (or to the course map)."""
    pages = set(pages)
    return _HREF.sub(lambda m: f'{m.group(1)}"{_rewrite_href(m.group(2), page, pages)}"', text)


def _replace_widgets(nb: Any) -> int:
    n = 0
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_MIME in data:
                output["data"] = {"text/html": WIDGET_NOTE, "text/plain": "[interactive app: needs a kernel]"}
                n += 1
    return n


def _errors(nb: Any) -> list[str]:
    found = []
    for i, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                found.append(f"cell {i}: {output.get('ename')}: {str(output.get('evalue'))[:160]}")
    return found


def _nav(page: str, prev: tuple[str, str] | None, nxt: tuple[str, str] | None, foot: bool = False) -> str:
    here = os.path.dirname(page)

    def link(to: str) -> str:
        return html.escape(os.path.relpath(to, here or ".").replace(os.sep, "/"), quote=True)

    left = f'<a class="adamlab-home" href="{link("index.html")}">adamlab &middot; course map</a>'
    parts = []
    if prev:
        parts.append(f'<a href="{link(prev[0])}">&larr; {html.escape(prev[1])}</a>')
    if nxt:
        parts.append(f'<a href="{link(nxt[0])}">{html.escape(nxt[1])} &rarr;</a>')
    cls = "adamlab-nav adamlab-foot" if foot else "adamlab-nav"
    return f'<nav class="{cls}">{left}<span class="adamlab-pn">{"".join(parts)}</span></nav>'


def render_page(
    source: str | os.PathLike,
    out_html: str | os.PathLike,
    *,
    page: str,
    pages: Iterable[str] = (),
    execute: bool = True,
    timeout: float = 300.0,
    mathjax_url: str | None = None,
    prev: tuple[str, str] | None = None,
    nxt: tuple[str, str] | None = None,
    stamp: str = "",
    title: str | None = None,
) -> dict[str, Any]:
    """Execute one notebook (in its own folder, with a fresh kernel) and write it as a static HTML page.

    ``page`` is the page's path in the site ("notebooks/01_gradient_descent.html"), ``pages`` every page of the
    site, for the links. Returns {"page", "title", "seconds", "errors", "widgets"}.
    """
    import nbformat
    from nbconvert import HTMLExporter

    source = Path(source)
    nb = nbformat.read(str(source), as_version=4)
    title = title or _notebook_title(nb, source.stem)
    seconds, errors = 0.0, []
    if execute:
        import subprocess

        from nbclient import NotebookClient

        # The kernel must draw inline figures, whatever MPLBACKEND the caller has (make test sets Agg).
        env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
        env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            allow_errors=True,
            interrupt_on_timeout=True,
            store_widget_state=False,
            record_timing=False,
            resources={"metadata": {"path": str(source.parent)}},
        )
        t = time.perf_counter()
        try:
            client.execute(env=env, stderr=subprocess.DEVNULL)  # kernel start-up chatter
        except Exception as err:  # noqa: BLE001 - a dead kernel: render what ran, and say so
            errors.append(f"execution stopped: {type(err).__name__}: {str(err)[:200]}")
        seconds = time.perf_counter() - t
        errors += _errors(nb)
    widgets = _replace_widgets(nb)
    exporter = HTMLExporter(template_name="lab", embed_images=True)
    if mathjax_url:
        exporter.mathjax_url = mathjax_url
    body, _ = exporter.from_notebook_node(
        nb, resources={"metadata": {"name": f"{title} · adamlab", "path": str(source.parent)}}
    )
    if "widgets" not in nb.metadata:  # require.js is only there for widget state; offline it would stall the page
        body = re.sub(r'<script src="[^"]*require(?:\.min)?\.js"></script>\s*', "", body)
    body = rewrite_links(body, page, pages)
    top = _nav(page, prev, nxt) + (f'<div class="adamlab-stamp">{html.escape(stamp)}</div>' if stamp else "")
    local_mathjax = bool(mathjax_url) and "://" not in mathjax_url
    body = body.replace("</head>", NAV_CSS + (NATIVE_MATHML if local_mathjax else "") + "</head>", 1)
    body = re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + top, body, count=1)
    body = body.replace("</body>", _nav(page, prev, nxt, foot=True) + "</body>", 1)
    out_html = Path(out_html)
    out_html.parent.mkdir(parents=True, exist_ok=True)
    out_html.write_text(body, encoding="utf-8")
    return {"page": page, "title": title, "seconds": seconds, "errors": errors, "widgets": widgets}


def _render_job(job: dict[str, Any]) -> dict[str, Any]:
    try:
        return render_page(**job)
    except Exception as err:  # noqa: BLE001 - one broken notebook must not stop the site
        return {
            "page": job["page"],
            "title": job.get("title") or job["page"],
            "seconds": 0.0,
            "errors": [f"could not be rendered: {type(err).__name__}: {str(err)[:300]}"],
            "widgets": 0,
        }


def _index_html(entries: list[dict[str, Any]], exercises: list[dict[str, Any]], stamp: str, mathjax: bool) -> str:
    def row(e: dict[str, Any]) -> str:
        anchor = f"nb{e['number']}"
        if e.get("page"):
            name = f'<a href="{html.escape(e["page"], quote=True)}">{html.escape(e["title"])}</a>'
            status = f"{e['seconds']:.0f} s" if e.get("seconds") else ""
            if e.get("errors"):
                status += ' <span class="err">errors when executed</span>'
        else:
            name = html.escape(e["title"])
            status = "planned" if e.get("status") == "planned" else "not written yet"
            status = f'<span class="todo">{status}</span>'
        return (
            f'<tr id="{anchor}"><td>{e["number"]}</td><td>{name}</td><td>{html.escape(e["summary"])}</td>'
            f"<td>{status}</td></tr>"
        )

    def ex_row(e: dict[str, Any]) -> str:
        return (
            f'<tr><td><a href="{html.escape(e["page"], quote=True)}">{html.escape(e["title"])}</a></td>'
            f"<td>{html.escape(e['summary'])}</td></tr>"
        )

    rows = "\n".join(row(e) for e in entries)
    ex_rows = "\n".join(ex_row(e) for e in exercises)
    math_note = (
        ""
        if mathjax
        else (
            " Formulas are typeset by MathJax from the web; offline they show as LaTeX source "
            "(install jupyter-server-mathjax and rebuild to bundle MathJax)."
        )
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>adamlab: the course map</title>
<style>
body{{font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;max-width:1000px;margin:0 auto;padding:24px;
 color:#222}}
h1{{margin-bottom:0}} .sub{{color:#555;margin-top:4px}}
table{{border-collapse:collapse;width:100%;margin:12px 0 28px 0}}
td,th{{border-bottom:1px solid #e1e4e8;padding:6px 10px;text-align:left;vertical-align:top}}
th{{background:#f6f7f9}} td:first-child{{white-space:nowrap;color:#555}}
a{{color:#1a5fb4;text-decoration:none}} a:hover{{text-decoration:underline}}
.todo{{color:#888;font-style:italic}} .err{{color:#b00020}} tr:target{{background:#fff8e1}}
.note{{background:#f6f7f9;border-left:4px solid #1a5fb4;padding:8px 14px;font-size:15px}}
</style></head>
<body>
<h1>adamlab</h1>
<p class="sub">The optimizers of deep learning, from plain gradient descent to Adam and its family, taken apart step
by step.</p>
<p class="note">This is a static copy of the course: every notebook was run and its output saved, so the pictures and
numbers are real, but nothing here runs. The interactive apps (sliders) need a live kernel: run <code>make lab</code>
in the course folder, or ask your instructor.{math_note}</p>
<h2 id="notebooks">The course</h2>
<p>Read the notebooks in order; each one assumes the ones before it. The last column is how long the notebook took to
run when this site was built.</p>
<table><tr><th>#</th><th>notebook</th><th>what you learn</th><th>ran in</th></tr>
{rows}
</table>
<h2 id="exercises">Exercises</h2>
<p>Graded exercise notebooks. Here you see them unanswered, with the checker's output; to do them, open them in
JupyterLab and run the <code>check(...)</code> cell under each answer.</p>
<table><tr><th>notebook</th><th>what it asks</th></tr>
{ex_rows}
</table>
<p class="sub">{html.escape(stamp)}</p>
</body></html>
"""


def broken_links(site: Path) -> list[str]:
    """Relative links in the site's pages whose target file (or #anchor) does not exist."""
    bad = []
    for page in sorted(site.rglob("*.html")):
        if "_static" in page.relative_to(site).parts:
            continue
        for href in re.findall(r'\shref="([^"]*)"', page.read_text(encoding="utf-8")):
            raw = html.unescape(href)
            if not raw or raw.startswith(("#", "/", "//")) or _SCHEME.match(raw):
                continue
            path, _, frag = raw.partition("#")
            target = (page.parent / path.partition("?")[0]).resolve()
            if not target.exists():
                bad.append(f"{page.relative_to(site).as_posix()}: {raw}")
            elif frag and target.suffix == ".html" and f'id="{frag}"' not in target.read_text(encoding="utf-8"):
                bad.append(f"{page.relative_to(site).as_posix()}: {raw} (no such anchor)")
    return bad


def _first_paragraph(nb: Any) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            paragraph = cell.source.split("\n\n")
            text = " ".join(p for p in paragraph if p.strip() and not p.lstrip().startswith("#"))
            if text.strip():
                first = re.split(r"(?<=[.!?])\s", " ".join(text.split()), maxsplit=2)
                return re.sub(r"[*_`$]", "", " ".join(first[:2]))  # two sentences at most
    return ""


def _stamp() -> str:
    import platform

    from adamlab import __name__ as _name

    torch_version = _dist_version("torch") or "no torch"
    return (
        f"Built {_dt.datetime.now().strftime('%Y-%m-%d %H:%M')} with {_name} {_dist_version('adamlab') or ''}, "
        f"Python {platform.python_version()}, torch {torch_version}, on {platform.machine()} "
        f"({os.cpu_count()} CPUs)."
    )


def build_site(
    out: str | os.PathLike = "site",
    *,
    jobs: int = 2,
    timeout: float = 300.0,
    execute: bool = True,
    only: Sequence[str] = (),
    log: Any = None,
) -> int:
    """Execute and render the course (notebooks/ and exercises/) into ``out``; return an exit status."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    import nbformat

    log = log or sys.stdout
    root = course_root()
    out = Path(out)
    if out.exists() and any(out.iterdir()) and not (out / SITE_MARKER).exists():
        print(
            f"adamlab: error: {out} is not empty and was not made by `adamlab site`; choose another --out",
            file=sys.stderr,
        )
        return 2
    out.mkdir(parents=True, exist_ok=True)
    (out / SITE_MARKER).write_text("made by `adamlab site`; rebuilt in place\n", encoding="utf-8")

    sources = [f for f in course_files(root) if f.endswith(".ipynb")]
    if only:
        sources = [f for f in sources if any(Path(f).stem.startswith(o) or f == o for o in only)]
    nbs = {rel: nbformat.read(str(root / rel), as_version=4) for rel in sources}
    pages = {rel: rel[: -len(".ipynb")] + ".html" for rel in sources}
    titles = {rel: _notebook_title(nb, Path(rel).stem) for rel, nb in nbs.items()}

    mathjax_dir = _local_mathjax()
    if mathjax_dir is not None:
        shutil.copytree(mathjax_dir, out / "_static" / "mathjax", dirs_exist_ok=True)
    stamp = _stamp()

    course = [rel for rel in sources if rel.startswith("notebooks/")]
    jobs_list = []
    with tempfile.TemporaryDirectory(prefix="adamlab-site-") as tmp:
        # Execute copies, so whatever a notebook writes next to itself stays out of the course folder.
        for top in COURSE_DIRS:
            if (root / top).is_dir():
                shutil.copytree(root / top, Path(tmp) / top, ignore=shutil.ignore_patterns(".*", "__pycache__"))
        for rel in sources:
            i = course.index(rel) if rel in course else -1
            prev = (pages[course[i - 1]], titles[course[i - 1]]) if i > 0 else None
            nxt = (pages[course[i + 1]], titles[course[i + 1]]) if 0 <= i < len(course) - 1 else None
            depth = rel.count("/")
            jobs_list.append(
                {
                    "source": str(Path(tmp) / rel),
                    "out_html": str(out / pages[rel]),
                    "page": pages[rel],
                    "pages": sorted(pages.values()),
                    "execute": execute,
                    "timeout": timeout,
                    "mathjax_url": (
                        "../" * depth + "_static/mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"
                        if mathjax_dir
                        else None
                    ),
                    "prev": prev,
                    "nxt": nxt,
                    "stamp": stamp,
                    "title": titles[rel],
                }
            )
        print(f"rendering {len(jobs_list)} notebooks into {out}/ with {jobs} process(es)", file=log, flush=True)
        results: dict[str, dict[str, Any]] = {}
        t0 = time.perf_counter()
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=max(1, jobs), mp_context=ctx) as pool:
            futures = {pool.submit(_render_job, job): job["page"] for job in jobs_list}
            for f in as_completed(futures):
                r = f.result()
                results[r["page"]] = r
                mark = "FAIL" if r["errors"] else "ok  "
                print(f"  {mark} {r['page']:<40} {r['seconds']:5.1f} s", file=log, flush=True)
                for e in r["errors"][:5]:
                    print(f"       {e}", file=log)

    by_page = {r["page"]: r for r in results.values()}
    entries = []
    known = {rel: pages[rel] for rel in course}
    for stem, title, summary, status in COURSE:
        number = stem[:2]
        rel = next((r for r in known if Path(r).name.startswith(number + "_")), None)
        entry = {"number": number, "title": title, "summary": summary, "status": status}
        if rel:
            r = by_page.get(known[rel], {})
            entry.update(page=known[rel], title=titles[rel], seconds=r.get("seconds"), errors=r.get("errors"))
        entries.append(entry)
    numbers = {e["number"] for e in entries}
    for rel in course:  # notebooks the map above does not know yet
        number = Path(rel).name[:2]
        if number not in numbers:
            r = by_page.get(pages[rel], {})
            entries.append(
                {
                    "number": number,
                    "title": titles[rel],
                    "summary": _first_paragraph(nbs[rel]),
                    "status": "",
                    "page": pages[rel],
                    "seconds": r.get("seconds"),
                    "errors": r.get("errors"),
                }
            )
    entries.sort(key=lambda e: e["number"])
    exercises = []
    for rel in sources:
        if rel.startswith("exercises/"):
            summary = _first_paragraph(nbs[rel])
            exercises.append({"page": pages[rel], "title": titles[rel], "summary": summary})
    (out / "index.html").write_text(_index_html(entries, exercises, stamp, mathjax_dir is not None), encoding="utf-8")
    (out / "timings.json").write_text(
        json.dumps({r["page"]: round(r["seconds"], 2) for r in results.values()}, indent=1, sort_keys=True) + "\n",
        encoding="utf-8",
    )
    broken = broken_links(out)
    for line in broken[:10]:
        print(f"warning: broken link in {line}", file=log)
    failed = sorted(p for p, r in results.items() if r["errors"])
    total = time.perf_counter() - t0
    print(f"wrote {out / 'index.html'} and {len(results)} pages in {total:.0f} s", file=log)
    if mathjax_dir is None:
        print(
            "note: formulas use MathJax from the web; `pip install jupyter-server-mathjax` and rebuild to bundle it "
            "for offline reading",
            file=log,
        )
    if failed:
        print(f"{len(failed)} notebook(s) had errors (their pages show them): {', '.join(failed)}", file=log)
        return 1
    return 0

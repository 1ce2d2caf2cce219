"""The workshop kit: `adamlab doctor`, `adamlab workspace`, `adamlab lab` and `adamlab site`."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest

from adamlab import workshop
from adamlab.cli import main

REPO = Path(__file__).resolve().parent.parent


# ----------------------------------------------------------------------------------------------------------
# doctor


def test_doctor_passes_here_with_a_real_kernel():
    out = io.StringIO()
    status = workshop.doctor_main(out=out)
    text = out.getvalue()
    assert status == 0, text
    assert "READY" in text and "FAIL" not in text
    for name in ("python", "numpy", "ipywidgets", "jupyterlab", "torch", "widgets", "figures", "gpu", "kernel", "disk"):
        assert re.search(rf"^(OK|WARN) +{name} ", text, flags=re.M), (name, text)
    assert re.search(r"^OK +kernel +python3 started and ran 1 \+ 1 = 2", text, flags=re.M)


def test_doctor_fails_with_a_clear_line_when_ipywidgets_is_missing(monkeypatch):
    real = workshop._dist_version
    monkeypatch.setattr(workshop, "_dist_version", lambda dist: None if dist == "ipywidgets" else real(dist))
    out = io.StringIO()
    assert workshop.doctor_main(kernel=False, out=out) == 1
    text = out.getvalue()
    line = next(ln for ln in text.splitlines() if " ipywidgets " in ln)
    assert line.startswith("FAIL") and "not installed" in line
    assert 'pip install "ipywidgets>=8.1"' in text and "make lab" in text
    assert "NOT READY: 1 check(s) failed (ipywidgets)" in text


def test_doctor_fails_on_an_old_package_and_a_missing_widgets_front_end(monkeypatch):
    real = workshop._dist_version
    fake = {"numpy": "1.20.3", "jupyterlab_widgets": None}
    monkeypatch.setattr(workshop, "_dist_version", lambda dist: fake[dist] if dist in fake else real(dist))
    checks = {c.name: c for c in workshop.run_checks(kernel=False)}
    assert checks["numpy"].status == "FAIL" and "older than the 1.24" in checks["numpy"].found
    assert checks["widgets"].status == "FAIL" and "jupyterlab_widgets" in checks["widgets"].fix


def test_doctor_warns_on_another_torch_release(monkeypatch):
    real = workshop._dist_version
    monkeypatch.setattr(workshop, "_dist_version", lambda dist: "2.14.1" if dist == "torch" else real(dist))
    check = workshop._check_package("torch", "2.13")
    assert check.status == "WARN" and "torch==2.13.0" in check.fix


def test_doctor_fails_when_the_widgets_extension_is_disabled(tmp_path, monkeypatch):
    (tmp_path / "labconfig").mkdir()
    config = {"disabledExtensions": {"@jupyter-widgets/jupyterlab-manager": True}}
    (tmp_path / "labconfig" / "page_config.json").write_text(json.dumps(config))
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path))
    check = workshop._check_widgets_extension()
    assert check.status == "FAIL" and "disabled" in check.found
    assert check.fix == "jupyter labextension enable @jupyter-widgets/jupyterlab-manager"


def test_doctor_reports_a_kernel_that_does_not_start(monkeypatch):
    import jupyter_client.manager

    class Broken(jupyter_client.manager.KernelManager):
        def start_kernel(self, **kw):
            raise RuntimeError("no such file: /usr/bin/python3.8")

    monkeypatch.setattr(jupyter_client.manager, "KernelManager", Broken)
    check = workshop._check_kernel(timeout=5)
    assert check.status == "FAIL" and "did not start" in check.found and "ipykernel install" in check.fix


def test_doctor_json_and_cli(capsys):
    assert main(["doctor", "--no-kernel", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is True
    assert {c["name"] for c in data["checks"]} >= {"python", "torch", "widgets", "disk"}
    assert all(c["status"] in ("OK", "WARN") for c in data["checks"])


def test_doctor_minimum_versions_match_pyproject():
    text = (REPO / "pyproject.toml").read_text()
    for dist, _, minimum in workshop.PACKAGES:
        assert re.search(rf'"{re.escape(dist)}>={re.escape(minimum)}"', text), dist


# ----------------------------------------------------------------------------------------------------------
# workspace


def _course(root: Path) -> Path:
    (root / "notebooks").mkdir(parents=True)
    (root / "exercises").mkdir()
    (root / "notebooks" / "00_welcome.ipynb").write_text('{"cells": []}\n')
    (root / "notebooks" / "01_gd.ipynb").write_text('{"cells": [1]}\n')
    (root / "notebooks" / "02_momentum.ipynb").write_text('{"cells": [2]}\n')
    (root / "exercises" / "01_sgd.ipynb").write_text('{"cells": [3]}\n')
    (root / "exercises" / "README.md").write_text("# Exercises\n")
    (root / "notebooks" / ".ipynb_checkpoints").mkdir()
    (root / "notebooks" / ".ipynb_checkpoints" / "00_welcome-checkpoint.ipynb").write_text("{}")
    return root


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_workspace_copies_then_never_overwrites_or_deletes(tmp_path):
    course = _course(tmp_path / "course")
    ws = tmp_path / "ws"
    first = workshop.make_workspace(ws, source=course)
    assert sorted(first.copied) == [
        "exercises/01_sgd.ipynb",
        "exercises/README.md",
        "notebooks/00_welcome.ipynb",
        "notebooks/01_gd.ipynb",
        "notebooks/02_momentum.ipynb",
    ]
    assert (ws / "notebooks" / "01_gd.ipynb").read_bytes() == (course / "notebooks" / "01_gd.ipynb").read_bytes()
    assert not (ws / "notebooks" / ".ipynb_checkpoints").exists()

    # The learner works: edits a notebook, adds their own files.
    mine = b'{"cells": ["my answer \xc3\xa9"]}\n'
    (ws / "notebooks" / "01_gd.ipynb").write_bytes(mine)
    (ws / "notebooks" / "scratch.ipynb").write_text("{}")
    (ws / "my-notes.txt").write_text("notes")
    # The course is updated: a new notebook, a changed one the learner edited, a changed one they did not touch,
    # and one removed.
    (course / "notebooks" / "03_adagrad.ipynb").write_text('{"cells": [4]}\n')
    (course / "notebooks" / "01_gd.ipynb").write_text('{"cells": [1, "new"]}\n')
    (course / "notebooks" / "02_momentum.ipynb").write_text('{"cells": [2, "new"]}\n')
    (course / "exercises" / "01_sgd.ipynb").unlink()
    before = _tree(ws)

    again = workshop.make_workspace(ws, source=course)
    after = _tree(ws)
    assert again.copied == ["notebooks/03_adagrad.ipynb"]
    assert after["notebooks/01_gd.ipynb"] == mine  # byte for byte
    for rel, data in before.items():  # nothing lost, nothing overwritten
        if rel != workshop.MANIFEST:
            assert after[rel] == data, rel
    assert set(after) == set(before) | {"notebooks/03_adagrad.ipynb"}
    assert again.kept == ["notebooks/01_gd.ipynb", "notebooks/02_momentum.ipynb"]
    assert again.updated_upstream == ["notebooks/01_gd.ipynb", "notebooks/02_momentum.ipynb"]
    assert again.untouched_old == ["notebooks/02_momentum.ipynb"]
    summary = again.summary()
    assert "kept   notebooks/01_gd.ipynb" in summary and "your edits are kept" in summary
    assert "delete it and run this again" in summary
    assert "new    notebooks/03_adagrad.ipynb" in summary

    # A third run still reports the newer versions (the manifest keeps the version the learner has).
    third = workshop.make_workspace(ws, source=course)
    assert third.copied == [] and third.updated_upstream == again.updated_upstream


def test_workspace_dry_run_writes_nothing_and_a_folder_in_the_way_is_skipped(tmp_path):
    course = _course(tmp_path / "course")
    ws = tmp_path / "ws"
    report = workshop.make_workspace(ws, source=course, dry_run=True)
    assert len(report.copied) == 5 and not ws.exists()
    (ws / "notebooks" / "01_gd.ipynb").mkdir(parents=True)
    report = workshop.make_workspace(ws, source=course)
    assert report.blocked == ["notebooks/01_gd.ipynb"] and (ws / "notebooks" / "01_gd.ipynb").is_dir()


def test_workspace_of_the_course_itself_does_nothing_and_one_inside_it_is_refused(tmp_path):
    course = _course(tmp_path / "course")
    report = workshop.make_workspace(course, source=course)
    assert report.same_folder and not (course / workshop.MANIFEST).exists()
    with pytest.raises(ValueError, match="inside the course's notebooks/"):
        workshop.make_workspace(course / "notebooks" / "mine", source=course)
    assert not (course / "notebooks" / "mine").exists()


def test_workspace_from_the_checkout_and_the_cli(tmp_path, capsys):
    root = workshop.course_root()
    assert root == REPO and (root / "notebooks" / "00_welcome.ipynb").is_file()
    assert main(["workspace", str(tmp_path / "ws")]) == 0
    out = capsys.readouterr().out
    assert "new    notebooks/00_welcome.ipynb" in out and "new    exercises/README.md" in out
    assert not (tmp_path / "ws" / "solutions").exists()
    assert main(["workspace", str(tmp_path / "ws")]) == 0
    assert "0 new file(s) copied" in capsys.readouterr().out


def test_workspace_without_course_files_says_what_to_do(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(workshop, "_candidates", lambda: [tmp_path / "nothing"])
    with pytest.raises(workshop.CourseNotFound, match="ADAMLAB_COURSE"):
        workshop.course_root()
    assert main(["workspace", str(tmp_path / "ws")]) == 2
    assert "cannot find the course notebooks" in capsys.readouterr().err


# ----------------------------------------------------------------------------------------------------------
# lab


def test_lab_arguments_pass_through():
    assert workshop.parse_lab_args(["my-work", "--no-browser", "--port", "8899"]) == (
        "my-work",
        ["--no-browser", "--port", "8899"],
        False,
    )
    assert workshop.parse_lab_args(["--no-browser"]) == (None, ["--no-browser"], False)
    assert workshop.parse_lab_args(["ws", "--dry-run", "--", "--port=1", "--dry-run"]) == (
        "ws",
        ["--port=1", "--dry-run"],
        True,
    )


def test_lab_command_opens_the_first_notebook_in_the_workspace(tmp_path):
    ws = tmp_path / "ws"
    (ws / "notebooks").mkdir(parents=True)
    (ws / "notebooks" / "00_welcome.ipynb").write_text("{}")
    argv, cwd = workshop.lab_command(ws, ["--no-browser", "--port=8899"], as_root=False)
    assert argv[1:] == [
        "-m",
        "jupyterlab",
        f"--ServerApp.root_dir={ws}",
        "notebooks/00_welcome.ipynb",
        "--no-browser",
        "--port=8899",
    ]
    assert cwd == ws
    argv, _ = workshop.lab_command(ws, ["exercises/03_adam.ipynb"], as_root=False)
    assert argv[4:] == ["exercises/03_adam.ipynb"]
    # as root, JupyterLab needs to be told it may run
    argv, _ = workshop.lab_command(ws, [], as_root=True)
    assert argv[4] == "--ServerApp.allow_root=True"
    argv, _ = workshop.lab_command(ws, ["--allow-root"], as_root=True)
    assert "--ServerApp.allow_root=True" not in argv


def test_lab_makes_the_workspace_then_runs_jupyter_with_the_arguments(tmp_path, monkeypatch, capsys):
    ran = []
    monkeypatch.setattr(workshop, "_exec", lambda argv, cwd: ran.append((argv, cwd)) or 0)
    ws = tmp_path / "my-work"
    assert main(["lab", str(ws), "--no-browser", "--port", "8899"]) == 0
    ((argv, cwd),) = ran
    args = [a for a in argv[4:] if a != "--ServerApp.allow_root=True"]  # added when the tests run as root
    assert args == ["notebooks/00_welcome.ipynb", "--no-browser", "--port", "8899"]
    assert cwd == ws and (ws / "notebooks" / "00_welcome.ipynb").is_file()
    assert "starting JupyterLab" in capsys.readouterr().out
    assert main(["lab", "--help"]) == 0 and "DIR, if given, comes first" in capsys.readouterr().out


@pytest.mark.skipif(shutil.which("make") is None, reason="no make")
def test_make_lab_runs_adamlab_lab_with_jupyter_args():
    out = subprocess.run(
        ["make", "-n", "lab", "JUPYTER_ARGS=--no-browser --port=8899"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert ".venv/bin/adamlab lab workspace --no-browser --port=8899" in out
    out = subprocess.run(
        ["make", "-n", "-W", "pyproject.toml", "env", "WHEELHOUSE=/media/usb/wheelhouse"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    installs = [ln for ln in out.splitlines() if "pip install" in ln]
    assert len(installs) == 3 and all("--no-index --find-links /media/usb/wheelhouse" in ln for ln in installs)


# ----------------------------------------------------------------------------------------------------------
# site


def test_links_are_rewritten_to_pages_or_the_course_map():
    pages = ["notebooks/01_gd.html", "notebooks/02_momentum.html", "exercises/01_sgd.html"]
    html = (
        '<a href="02_momentum.ipynb#The-heavy-ball">m</a> <a href="../exercises/01_sgd.ipynb">e</a> '
        '<a href="11_tuning.ipynb">planned</a> <a href="../exercises/">all</a> '
        '<a href="https://example.org/x.ipynb">web</a> <a href="#Top">here</a> <a href="data.csv">data</a>'
    )
    out = workshop.rewrite_links(html, "notebooks/01_gd.html", pages)
    assert re.findall(r'href="([^"]*)"', out) == [
        "02_momentum.html#The-heavy-ball",
        "../exercises/01_sgd.html",
        "../index.html#nb11",
        "../index.html#exercises",
        "https://example.org/x.ipynb",
        "#Top",
        "data.csv",
    ]


def test_render_page_executes_embeds_the_figure_and_rewrites_links(tmp_path):
    src = tmp_path / "course" / "notebooks"
    src.mkdir(parents=True)
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell(
            "# 01 Tiny\n\nOn to [momentum](02_momentum.ipynb#Sec), the [exercises](../exercises/01_sgd.ipynb) "
            "and [a planned one](11_tuning.ipynb)."
        ),
        nbformat.v4.new_code_cell("import matplotlib.pyplot as plt\nplt.plot([0, 1], [1, 0])\nplt.show()"),
        nbformat.v4.new_code_cell("import ipywidgets\nipywidgets.IntSlider(description='steps')"),
    ]
    nbformat.write(nb, src / "01_tiny.ipynb")
    out = tmp_path / "site" / "notebooks" / "01_tiny.html"
    result = workshop.render_page(
        src / "01_tiny.ipynb",
        out,
        page="notebooks/01_tiny.html",
        pages=["notebooks/01_tiny.html", "notebooks/02_momentum.html", "exercises/01_sgd.html"],
        nxt=("notebooks/02_momentum.html", "02 Momentum"),
        timeout=60,
    )
    assert result["errors"] == [] and result["title"] == "01 Tiny" and result["widgets"] == 1
    page = out.read_text()
    assert 'href="02_momentum.html#Sec"' in page and 'href="../exercises/01_sgd.html"' in page
    assert 'href="../index.html#nb11"' in page and ".ipynb" not in " ".join(re.findall(r'href="[^"]*"', page))
    assert re.search(r'<img[^>]+src="data:image/png;base64,', page)
    assert "Interactive app." in page and "IntSlider(" not in page
    assert "02 Momentum &rarr;" in page and 'href="../index.html">adamlab' in page
    assert "require.min.js" not in page and "<title>01 Tiny · adamlab</title>" in page


def test_build_site_writes_a_course_map_and_refuses_a_foreign_folder(tmp_path, monkeypatch):
    course = tmp_path / "course"
    for rel, title in [
        ("notebooks/00_welcome.ipynb", "Welcome"),
        ("notebooks/01_gd.ipynb", "01 GD"),
        ("exercises/01_sgd.ipynb", "Exercises 1"),
    ]:
        (course / rel).parent.mkdir(parents=True, exist_ok=True)
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_markdown_cell(f"# {title}\n\nGoes with [01](../notebooks/01_gd.ipynb).")]
        nbformat.write(nb, course / rel)
    monkeypatch.setenv("ADAMLAB_COURSE", str(course))
    site = tmp_path / "site"
    assert workshop.build_site(site, jobs=1, execute=False, log=io.StringIO()) == 0
    index = (site / "index.html").read_text()
    assert 'href="notebooks/01_gd.html">01 GD</a>' in index and 'href="exercises/01_sgd.html"' in index
    assert 'id="nb11"' in index and "not written yet" in index  # on the map, but not in this course folder
    assert 'href="../notebooks/01_gd.html"' in (site / "exercises" / "01_sgd.html").read_text()
    assert not (course / "notebooks" / "01_gd.html").exists()
    assert workshop.broken_links(site) == []
    (site / "notebooks" / "extra.html").write_text('<a href="gone.html">x</a> <a href="01_gd.html#nowhere">y</a>')
    assert workshop.broken_links(site) == [
        "notebooks/extra.html: gone.html",
        "notebooks/extra.html: 01_gd.html#nowhere (no such anchor)",
    ]
    foreign = tmp_path / "documents"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("mine")
    assert workshop.build_site(foreign, jobs=1, execute=False, log=io.StringIO()) == 2
    assert (foreign / "thesis.tex").read_text() == "mine" and not (foreign / "index.html").exists()

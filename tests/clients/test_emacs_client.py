"""Emacs with eglot and clients/emacs/bashcoder.el completes a shell word with the real server.

Emacs (batch, Debian's emacs-nox with elpa-eglot) is set up the way clients/README.md says, opens
a script ending in `tar -c`, waits for the model, and runs `completion-at-point` as M-TAB would.
The line must become `tar ` + the server's completion of `-c`: before items replaced the whole
shell word, eglot took `-c` as the word, filtered the item out, and the line became `tar -c -`.
Then `bashcoder-configure` turns the server's suggestions off in the running server.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from editors import LSP_BIN, ROOT, SETTINGS, emacs_with_eglot, missing_server, skip_unless

CLIENT = ROOT / "clients" / "emacs"
COMMENT = "# Back up the home directory into a compressed archive."

pytestmark = [
    pytest.mark.editors,
    pytest.mark.slow,
    skip_unless(missing_server()),
    skip_unless(emacs_with_eglot()),
]

# Runs in `emacs --batch`: the README's set-up, then what a user does. The command loop's
# post-command-hook is run by hand (eglot-ensure connects from it); waiting is accept-process-output.
DRIVER = r"""
(defun bc-test-wait (pred seconds what)
  (let ((deadline (+ (float-time) seconds)))
    (while (and (not (funcall pred)) (< (float-time) deadline))
      (accept-process-output nil 0.05))
    (or (funcall pred) (error "timed out after %ss waiting for %s" seconds what))))

(defun bc-test-line ()
  (buffer-substring-no-properties (line-beginning-position) (line-end-position)))

(let ((out (list)))
  (condition-case err
      (progn
        ;; clients/README.md, Emacs
        (add-to-list 'load-path bc-client)
        (require 'bashcoder)
        ;; a busy test machine may take more than jsonrpc's 10 s for the first (cold) completion
        (setq jsonrpc-default-request-timeout 60)
        (setq bashcoder-server-command (list bc-server))
        (setq bashcoder-settings bc-settings)
        (add-hook 'sh-mode-hook #'eglot-ensure)
        (setq out (plist-put out :registered
                             (format "%S" (car (rassq #'bashcoder--contact eglot-server-programs)))))
        ;; a user opens the script and, after the first command, eglot connects
        (find-file bc-script)
        (setq out (plist-put out :mode (symbol-name major-mode)))
        (run-hooks 'post-command-hook)
        (bc-test-wait (lambda () (eglot-managed-p)) 60 "eglot to manage the buffer")
        (bc-test-wait (lambda () bashcoder-last-status) 120 "bashcoder/status (the model loading)")
        (setq out (plist-put out :status (bashcoder-status)))
        (setq out (plist-put out :capf (format "%S" completion-at-point-functions)))
        ;; point at the end of `tar -c`, as after typing it
        (goto-char (point-max))
        (setq out (plist-put out :before (bc-test-line)))
        (let* ((server (eglot-current-server))
               (answer (jsonrpc-request server :textDocument/completion (eglot--CompletionParams)))
               (items (append (plist-get answer :items) nil)))
          (setq out (plist-put out :offered
                               (vconcat (mapcar (lambda (i) (plist-get (plist-get i :textEdit) :newText))
                                                items)))))
        (completion-at-point)
        (setq out (plist-put out :after (bc-test-line)))
        ;; the client asked for a status per completion: the latency shows
        (bc-test-wait (lambda () (plist-get bashcoder-last-status :latencyMs)) 30 "a status with a latency")
        (setq out (plist-put out :status_after (bashcoder-status)))
        ;; settings changed in the running server: disabled, it offers nothing
        (bashcoder-configure '(:enabled :json-false))
        (accept-process-output nil 0.5)
        (let ((answer (jsonrpc-request (eglot-current-server) :textDocument/completion
                                       (eglot--CompletionParams))))
          (setq out (plist-put out :disabled_items (length (plist-get answer :items)))))
        (setq out (plist-put out :ok t)))
    (error (setq out (plist-put out :error (error-message-string err)))))
  (with-temp-file bc-result (insert (json-encode out)))
  (kill-emacs 0))
"""


def test_completion_at_point_completes_the_whole_dash_option(
    tmp_path: Path,
) -> None:
    script = tmp_path / "backup.sh"
    script.write_text(f"#!/bin/bash\n{COMMENT}\nset -eu\ntar -c")
    result = tmp_path / "result.json"
    settings = " ".join(f":{k} {json.dumps(v)}" for k, v in SETTINGS.items())
    prelude = (
        f"(setq bc-client {json.dumps(str(CLIENT))} bc-server {json.dumps(str(LSP_BIN))}\n"
        f"      bc-script {json.dumps(str(script))} bc-result {json.dumps(str(result))}\n"
        f"      bc-settings '({settings}))\n"
    )
    driver = tmp_path / "driver.el"
    driver.write_text(prelude + DRIVER, encoding="utf-8")
    env = {**os.environ, "HOME": str(tmp_path)}  # no user init, no ~/.emacs.d left behind
    proc = subprocess.run(
        ["emacs", "--batch", "-l", str(driver)], capture_output=True, text=True, timeout=240, env=env
    )
    assert result.exists(), proc.stderr[-3000:]
    seen: dict[str, Any] = json.loads(result.read_text())
    assert seen.get("ok"), f"{seen.get('error')}\n{proc.stderr[-3000:]}"
    assert seen["mode"] == "sh-mode"
    assert '(sh-mode :language-id "sh")' in seen["registered"] and "bash-ts-mode" in seen["registered"]
    assert seen["status"].startswith("bashcoder cpu"), seen["status"]
    assert "bashcoder-completion-at-point" in seen["capf"]
    assert re.fullmatch(r"bashcoder cpu \d+ms", seen["status_after"]), seen["status_after"]
    assert seen["before"] == "tar -c"

    offered = seen["offered"]
    assert offered, "the server offered no completion at `tar -c`"
    assert offered[0].startswith("-c") and len(offered[0]) > 2, (
        f"the item must replace all of `-c`: {offered}"
    )
    # What the user sees: the option completed in place, once, with nothing left over.
    # (Items that replaced only `c` were dropped by eglot's filter, and the line stayed short of this.)
    assert seen["after"] == "tar " + offered[0].split("\n")[0], seen

    assert seen["disabled_items"] == 0, (
        "bashcoder-configure '(:enabled :json-false) should silence the server"
    )


def test_bashcoder_el_byte_compiles_without_warnings(tmp_path: Path) -> None:
    copy = tmp_path / "bashcoder.el"
    copy.write_text((CLIENT / "bashcoder.el").read_text(encoding="utf-8"), encoding="utf-8")
    proc = subprocess.run(
        [
            "emacs",
            "--batch",
            "--eval",
            "(setq byte-compile-error-on-warn t)",
            "-f",
            "batch-byte-compile",
            str(copy),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    assert proc.returncode == 0 and (tmp_path / "bashcoder.elc").exists(), proc.stderr[-3000:]

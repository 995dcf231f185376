;;; bashcoder.el --- Bash completions from bashcoder-lsp  -*- lexical-binding: t; -*-

;; Version: 0.1.0
;; Package-Requires: ((emacs "28.1") (eglot "1.9"))
;; Keywords: languages, tools, convenience
;; SPDX-License-Identifier: MIT

;;; Commentary:

;; Registers the bashcoder language server (`bashcoder-lsp') with eglot for
;; `sh-mode' and `bash-ts-mode', so `M-x eglot' (or `eglot-ensure' in a mode
;; hook) starts it in a shell script.  Suggestions come through
;; `completion-at-point' (M-TAB, C-M-i, or Company/Corfu on top of it).
;; Completion logic lives in the server; this file only wires eglot up:
;;
;; - `bashcoder-server-command' says how to start the server and
;;   `bashcoder-settings' what to send it (initializationOptions, and
;;   workspace/didChangeConfiguration from `bashcoder-configure').
;; - A completion is offered for the whole shell word before point
;;   (`tar -c', `./run.s', `$HO'): eglot's own word is the mode's symbol, which
;;   in `sh-mode' stops at `/' and `$' and so drops the server's items.
;; - The server's `bashcoder/status' notification is kept for
;;   `bashcoder-status' (device and latency of the last suggestion).
;; - `bashcoder-generate' writes a script below the `# comment' line at point.
;;
;; Set-up (Emacs 28 with the eglot package; Emacs 29 has eglot built in):
;;
;;   (add-to-list 'load-path "~/bashcoder/clients/emacs")
;;   (require 'bashcoder)
;;   (setq bashcoder-server-command '("~/bashcoder/.venv/bin/bashcoder-lsp"))
;;   (add-hook 'sh-mode-hook #'eglot-ensure)

;;; Code:

(require 'cl-lib)
(require 'eglot)
(require 'jsonrpc)
(require 'subr-x)  ; hash-table-values

(defgroup bashcoder nil
  "Local bash completions from the bashcoder language server."
  :group 'tools
  :prefix "bashcoder-")

(defcustom bashcoder-server-command '("bashcoder-lsp")
  "Command that starts the server: the program, then its arguments.
A leading `~' in the program is expanded."
  :type '(repeat string))

(defcustom bashcoder-settings nil
  "Server settings as a plist with the camelCase keys of `clients/README.md'.
For example (:temperature 0 :mode \"line\" :enabled :json-false).  Sent as
initializationOptions when the server starts; change them in a running server
with `bashcoder-configure'."
  :type 'plist)

(defconst bashcoder-modes '((sh-mode :language-id "sh") (bash-ts-mode :language-id "bash"))
  "The major modes served, with the languageId the server is told.")

(defconst bashcoder-word-breaks " \t\n\r\f\v|&;()<>\"'`"
  "Characters that end a shell word, as WORD_BREAKS in bashcoder/server/items.py.")

(defvar bashcoder-last-status nil
  "The server's last `bashcoder/status': a plist (:device :latencyMs :model).")

(defclass bashcoder-server (eglot-lsp-server) ()
  :documentation "The bashcoder language server, `bashcoder-lsp'.")

(defun bashcoder--contact (&optional _interactive)
  "How eglot starts the server: our class and `bashcoder-server-command'."
  (cons 'bashcoder-server
        (cons (expand-file-name (car bashcoder-server-command)) (cdr bashcoder-server-command))))

(defun bashcoder--json-object (plist)
  "PLIST as a JSON object for jsonrpc; nil is an empty object, not null."
  (or plist (make-hash-table :size 1)))

(cl-defmethod eglot-initialization-options ((_server bashcoder-server))
  "Send `bashcoder-settings' as initializationOptions."
  (bashcoder--json-object bashcoder-settings))

(cl-defmethod eglot-client-capabilities :around ((_server bashcoder-server))
  "Eglot's capabilities, asking for a `bashcoder/status' after every completion.
Without it the server sends one only when the model loads, so the
latency in `bashcoder-status' would never show."
  (let ((caps (cl-call-next-method)))
    (plist-put caps :experimental '(:bashcoderStatus t))))

(cl-defmethod eglot-handle-notification
  ((_server bashcoder-server) (_method (eql bashcoder/status)) &rest params)
  "Keep the server's status: the device, the last latency and the model."
  (let ((first (null bashcoder-last-status)))
    (setq bashcoder-last-status params)
    (when first
      (message "bashcoder: model loaded on %s" (plist-get params :device)))))

(cl-defmethod eglot-handle-request
  ((_server bashcoder-server) (_method (eql workspace/applyEdit)) &rest _params)
  "Apply the server's edit unasked: it is what `bashcoder-generate' asked for."
  (let ((eglot-confirm-server-initiated-edits nil))
    (cl-call-next-method)))

(defun bashcoder-status ()
  "A one-line status, e.g. \"bashcoder cpu 23ms\"; \"\" before the server reports."
  (let ((s bashcoder-last-status))
    (if (null s)
        ""
      (let ((latency (plist-get s :latencyMs)))
        (format "bashcoder %s%s" (or (plist-get s :device) "?")
                (if (numberp latency) (format " %dms" (round latency)) ""))))))

(defun bashcoder--server ()
  "The bashcoder server managing this buffer, or nil."
  (let ((server (ignore-errors (eglot-current-server))))
    (and (cl-typep server 'bashcoder-server) server)))

(defun bashcoder-configure (settings)
  "Merge the plist SETTINGS into `bashcoder-settings'; send them to the servers."
  (let ((merged (copy-sequence bashcoder-settings)))
    (cl-loop for (key value) on settings by #'cddr
             do (setq merged (plist-put merged key value)))
    (setq bashcoder-settings merged))
  (dolist (server (hash-table-values eglot--servers-by-project))
    (dolist (s server)
      (when (cl-typep s 'bashcoder-server)
        (jsonrpc-notify
         s :workspace/didChangeConfiguration
         (list :settings
               (list :bashcoder (bashcoder--json-object bashcoder-settings))))))))

(defcustom bashcoder-generate-timeout 300
  "Seconds `bashcoder-generate' waits for the server to write a script."
  :type 'integer)

(defun bashcoder-generate ()
  "Ask the server to write a script body below the `# comment' line at point.
The request runs in the background; the script arrives as an edit."
  (interactive)
  (let ((server (or (bashcoder--server)
                    (user-error "bashcoder: no server manages this buffer; M-x eglot")))
        (args (vector (plist-get (eglot--TextDocumentIdentifier) :uri)
                      (1- (line-number-at-pos)))))
    (message "bashcoder: writing a script...")
    (jsonrpc-async-request
     server :workspace/executeCommand
     (list :command "bashcoder.generate" :arguments args)
     :success-fn (lambda (_result) (message "bashcoder: script written"))
     :error-fn (lambda (err) (message "bashcoder: generate failed: %s" (plist-get err :message)))
     :timeout-fn (lambda () (message "bashcoder: generate timed out"))
     :timeout bashcoder-generate-timeout)))

(defun bashcoder--word-syntax-table ()
  "The buffer's syntax table, where all but `bashcoder-word-breaks' are symbol."
  (let ((table (make-syntax-table (syntax-table))))
    (dolist (c (string-to-list "!#$%*+,-./:=?@[\\]^_{}~"))
      (unless (memq c (string-to-list bashcoder-word-breaks))
        (modify-syntax-entry c "_" table)))
    table))

(defun bashcoder-completion-at-point ()
  "`eglot-completion-at-point' over the whole shell word before point."
  (with-syntax-table (bashcoder--word-syntax-table)
    (eglot-completion-at-point)))

(defun bashcoder--managed ()
  "In a buffer our server manages, complete over shell words."
  (when (and (bound-and-true-p eglot--managed-mode) (bashcoder--server))
    (setq-local completion-at-point-functions
                (cl-substitute #'bashcoder-completion-at-point #'eglot-completion-at-point
                               completion-at-point-functions))))

(add-hook 'eglot-managed-mode-hook #'bashcoder--managed)
(add-to-list 'eglot-server-programs (cons bashcoder-modes #'bashcoder--contact))

(provide 'bashcoder)
;;; bashcoder.el ends here

"""Credential scrubbing: a pure function from text to text with placeholders, plus counts per kind.

Owns the patterns (private keys, cloud/VCS/SaaS tokens, passwords in URLs and
command lines, secret-looking assignments with literal values, emails) and
the placeholders. Placeholders are bare words (`REDACTED_GITHUB_TOKEN`) or a
documentation address (`user@example.com`), so scrubbed scripts still parse
and a second pass changes nothing (scrub is idempotent). Expansions such as
`$TOKEN` or `$(pass show x)` are code, not secrets, and are left alone.

Token formats follow the published rules of detect-secrets and gitleaks; the
context rules (assignments, flags, URLs) are shell-specific, which is why
they live here rather than in a detector library. Each exception in
`_is_literal_value` removed false positives found by scrubbing Debian's
shell scripts; the tests plant 30 secrets of 25 kinds and check none survive.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

PLACEHOLDER_PREFIX = "REDACTED"
EMAIL_PLACEHOLDER = "user@example.com"


def placeholder(kind: str) -> str:
    """The bare-word placeholder for a kind: "github-token" -> "REDACTED_GITHUB_TOKEN"."""
    return f"{PLACEHOLDER_PREFIX}_{kind.upper().replace('-', '_')}"


@dataclass
class Scrubbed:
    """Text with credentials replaced, and how many of each kind were replaced."""

    text: str
    counts: Counter[str] = field(default_factory=Counter)


# --- whole-match token formats: the match is the secret ---------------------
# Each rule has literal hints: a regex runs only on texts that contain one of
# them, which made scrubbing 20x faster on Debian's scripts (most hold none).
_END = r"(?![A-Za-z0-9_\-])"
_AWS_PREFIXES = (
    "AKIA",
    "ASIA",
    "ABIA",
    "ACCA",
    "AGPA",
    "AIDA",
    "AIPA",
    "AKPA",
    "ANPA",
    "ANVA",
    "APKA",
    "AROA",
    "ASCA",
)
TOKEN_PATTERNS: tuple[tuple[str, tuple[str, ...], re.Pattern[str]], ...] = tuple(
    (kind, hints, re.compile(pattern))
    for kind, hints, pattern in (
        ("aws-access-key-id", _AWS_PREFIXES, r"\b(?:" + "|".join(_AWS_PREFIXES) + r")[A-Z0-9]{16}\b"),
        (
            "github-token",
            ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
            r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})" + _END,
        ),
        ("gitlab-token", ("gl",), r"\bgl(?:pat|dt|rt|ptt|cbt|oas|soat|ft|imt)-[A-Za-z0-9_\-]{20,}" + _END),
        ("slack-token", ("xox",), r"\bxox[abposre]-[A-Za-z0-9\-]{10,}" + _END),
        (
            "slack-webhook",
            ("hooks.slack.com",),
            r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/]{16,}",
        ),
        (
            "discord-webhook",
            ("/api/webhooks/",),
            r"https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d+/[A-Za-z0-9_\-]{20,}",
        ),
        ("google-api-key", ("AIza",), r"\bAIza[0-9A-Za-z_\-]{35}" + _END),
        ("google-oauth-secret", ("GOCSPX-",), r"\bGOCSPX-[A-Za-z0-9_\-]{28}" + _END),
        (
            "stripe-key",
            ("_live_", "_test_", "whsec_"),
            r"\b(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,}" + _END + r"|\bwhsec_[0-9A-Za-z]{24,}" + _END,
        ),
        (
            "openai-key",
            ("sk-",),
            r"\bsk-(?:proj-|ant-(?:api\d\d-)?|svcacct-|admin-)?(?=[A-Za-z0-9_\-]*[0-9])(?=[A-Za-z0-9_\-]*[A-Z])"
            r"[A-Za-z0-9_\-]{20,}" + _END,
        ),
        ("npm-token", ("npm_",), r"\bnpm_[A-Za-z0-9]{36}" + _END),
        ("pypi-token", ("pypi-AgE",), r"\bpypi-AgE[A-Za-z0-9_\-]{50,}" + _END),
        ("huggingface-token", ("hf_",), r"\bhf_[A-Za-z0-9]{34,}" + _END),
        ("sendgrid-key", ("SG.",), r"\bSG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}" + _END),
        ("digitalocean-token", ("_v1_",), r"\bdo[opr]_v1_[a-f0-9]{64}\b"),
        ("vault-token", ("hvs.", "hvb.", "hvr."), r"\bhv[sbr]\.[A-Za-z0-9_\-]{24,}" + _END),
        ("dockerhub-token", ("dckr_pat_",), r"\bdckr_pat_[A-Za-z0-9_\-]{20,}" + _END),
        (
            "shopify-token",
            ("shpat_", "shpca_", "shppa_", "shpss_"),
            r"\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b",
        ),
        ("twilio-key", ("SK",), r"\bSK[0-9a-f]{32}\b"),
        ("mailgun-key", ("key-",), r"\bkey-[0-9a-f]{32}\b"),
        ("telegram-bot-token", (":AA",), r"(?<!\d)\d{8,10}:AA[A-Za-z0-9_\-]{30,40}" + _END),
        ("jwt", ("eyJ",), r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}" + _END),
    )
)

# --- private keys: whole PEM / PuTTY blocks ---------------------------------
_PEM_BLOCK = re.compile(
    r"-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----.{0,65536}?-----END[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----",
    re.S,
)
# A block cut off (no END line): the BEGIN line, optional headers and the base64 body.
_PEM_OPEN = re.compile(
    r"-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----(?:(?:\\n|\r?\n)(?:[A-Za-z-]+: [^\n]*|[A-Za-z0-9+/=]{8,}|))*"
)
_PUTTY = re.compile(r"Private-Lines: \d+\r?\n(?:[A-Za-z0-9+/=]{8,}\r?\n?)+(?:Private-MAC: [0-9a-f]+)?")

# --- secrets inside a context: only one group is the secret -----------------
_LITERAL = r"[^\s'\"`$\\;|&<>(){}]+"
_URL_CREDENTIALS = re.compile(r"\b([A-Za-z][A-Za-z0-9+.\-]{1,15}://)([^\s:/@'\"`]+):([^\s@/'\"`]+)@")
_AUTH_HEADER = re.compile(
    r"((?:Authorization|Proxy-Authorization)\s*:\s*(?:Bearer|Basic|Token|token|Digest|Bot|ApiKey|Apikey)\s+)"
    r"(" + _LITERAL + r")"
    r"|((?:X-)?(?:API-?Key|Auth-?Token|Access-?Token|Private-?Token|Api-?Token|Vault-?Token)\s*:\s*)"
    r"(" + _LITERAL + r")",
    re.I,
)
_CURL_USER = re.compile(r"(\s(?:-u|--user|--proxy-user|-U)\s*['\"]?)([^\s:'\"$]+|\$\{?\w+\}?):([^\s'\"]+)")
_SECRET_WORDS = r"(?:password|passwd|pass|passphrase|secret|token|api-?key|access-?key|secret-?key|auth-?key)"
_FLAG_EQ = re.compile(r"(--(?:[a-z0-9]+-)*" + _SECRET_WORDS + r"=)(['\"]?)(" + _LITERAL + r")")
_FLAG_SPACE = re.compile(
    r"(--(?:password|passwd|pass|passphrase|secret|token|api-?key|client-secret|access-token|auth-token"
    r"|http-password|ftp-password|proxy-password|db-password|admin-password|root-password|bot-token)"
    r"[ \t]+)(['\"]?)(" + _LITERAL + r")"
)
# mysql -pSECRET, with mysql in command position (not `find -group mysql -print0`).
_MYSQL_P = re.compile(
    r"((?:^|[;&|(`]|\bsudo|\bexec|\benv)[ \t]*(?:[A-Za-z_][A-Za-z0-9_]*=\S*[ \t]+)*(?:\S*/)?"
    r"(?:mysql|mysqldump|mysqladmin|mysqlimport|mysqlshow|mysqlcheck|mariadb|mariadb-dump|mariadb-admin)"
    r"\b[^\n|;&]*?[ \t]-p)('[^'$\n]+'|\"[^\"$`\n]+\"|[^\s'\"$`-][^\s'\"`;|&]*)",
    re.M,
)
_SSHPASS = re.compile(r"(\bsshpass\s+-p\s*)('[^'\n]+'|\"[^\"$`\n]+\"|[^\s'\"$`-][^\s'\"`;|&]*)")
_CHPASSWD = re.compile(r"(\becho\s+['\"]?[\w.\-]+:)([^\s'\"$`:]+)(['\"]?\s*\|\s*(?:sudo\s+)?chpasswd\b)")
_NETRC = re.compile(r"(\bmachine\s+\S+\s+login\s+\S+\s+password\s+)([^\s$'\"`]+)")

# Assignments: NAME=value where NAME ends in a secret word and value is literal.
_ASSIGN = re.compile(
    r"(?<![\w$.{-])((?:export|local|readonly|declare(?:\s+-\w+)*|typeset(?:\s+-\w+)*)\s+)?"
    # The name must end in a secret word (checked exactly by _SECRET_NAME); matching it here
    # keeps the Python callback off the thousands of ordinary assignments.
    r"([A-Za-z_][A-Za-z0-9_]*?(?i:token|passwd|password|passphrase|secret|key|credentials?|pass|pw))"
    r"(=|[ \t]+=[ \t]+)"
    r"('[^'\n]*'|\"(?:[^\"\\\n]|\\.)*\"|[^\s'\"`;|&<>()\[\]{},]*)"
)
_SECRET_NAME = re.compile(
    r"(?:TOKEN|PASSWORD|PASSWD|PASSPHRASE|SECRET|SECRET_?KEY|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|AUTH_?KEY"
    r"|CREDENTIALS?|(?:^|_)PASS|(?:^|_)PW)$",
    re.I,
)
# JSON/YAML/INI inside heredocs: "password": "x", password: x, password = x
_KEY_VALUE_QUOTED = re.compile(
    r"([\"']?)\b((?:client[_-]?)?(?:password|passwd|passphrase|secret|token|api[_-]?key|access[_-]?key"
    r"|secret[_-]?key|auth[_-]?token|private[_-]?key)\1\s*:\s*)([\"'])([^\s\"'$`{}]+)\3",
    re.I,
)
_KEY_VALUE_LINE = re.compile(
    r"^(\s*(?:password|passwd|passphrase|secret|token|api[_-]?key|secret[_-]?key|auth[_-]?token)\s*[:=]\s*)"
    r"([^\s#'\"$`{][^\s#'\"$`]*)[ \t]*$",
    re.I | re.M,
)

# Values that are clearly not credentials: switches, numbers and placeholders.
_NOT_SECRET = frozenset(
    {"true", "false", "yes", "no", "on", "off", "none", "null", "nil", "y", "n", "t", "f"}
    | {"password", "passwd", "pass", "passphrase", "secret", "token", "changeme", "empty", "unset", "default"}
)
# Upper-case words are metavars (`--password PASSWORD`) or enum values (`WRAPPING_PASS=LOGIN`).
_METAVAR = re.compile(r"[A-Z_]{1,16}")

_EMAIL = re.compile(
    r"(?<![\w.%+\-$@/])([A-Za-z0-9][A-Za-z0-9._%+\-]*)@([A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9\-]+)+)\b"
)
# Final labels that are file extensions or systemd unit types, not TLDs:
# `getty@tty1.service` and `icon@2x.png` are not addresses.
_NOT_TLD = frozenset(
    "service socket target timer mount automount path slice scope device swap png jpg jpeg gif svg webp ico sh "
    "bash py pl rb js ts md txt conf cfg ini json yaml yml xml html css log tar gz xz bz2 zip deb rpm so lua php "
    "java jar go rs in out d local lan internal invalid test localhost example".split()
)
# Documentation domains are placeholders already; OpenSSH/libssh name algorithms
# `umac-64@openssh.com`, which look like addresses but are identifiers.
_EXAMPLE_DOMAINS = ("example.com", "example.org", "example.net", "openssh.com", "libssh.org")
_URL_AUTHORITY_BEFORE = re.compile(r"://[^\s/@'\"`]*$")


def _is_literal_value(value: str, min_len: int = 1) -> bool:
    """True when a value is a literal credential, not an expansion, path, switch, metavar or placeholder.

    Every rule below removed false positives measured on Debian's shell scripts
    (`PW="/etc/shadow"`, `token=substr(...)`, `--password PASSWORD`, `XXXXXX`).
    """
    quoted = len(value) >= 2 and value[0] == value[-1] and value[0] in "'\""
    inner = value[1:-1] if quoted else value
    if (not quoted or value[0] == '"') and ("$" in inner or "`" in inner):
        return False
    if len(inner) < max(1, min_len) or inner[0] in "$`-\\/<%@[{(~" or inner.startswith(PLACEHOLDER_PREFIX):
        return False
    if any(c.isspace() or ord(c) > 127 for c in inner) or not any(c.isalnum() for c in inner):
        return False
    low = inner.lower()
    if low in _NOT_SECRET or (inner.isdigit() and len(inner) < 6) or set(low) <= set("x*."):
        return False
    return not _METAVAR.fullmatch(inner)


def _replace_value(value: str, kind: str) -> str:
    """The placeholder in the value's own quotes."""
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[0] + placeholder(kind) + value[0]
    return placeholder(kind)


def _sub(
    pattern: re.Pattern[str],
    text: str,
    counts: Counter[str],
    kind: str,
    repl: Callable[[re.Match[str]], str | None],
) -> str:
    """re.sub where `repl` returns None to keep a match unchanged; counts real replacements."""

    def wrapper(m: re.Match[str]) -> str:
        out = repl(m)
        if out is None or out == m.group(0):
            return m.group(0)
        counts[kind] += 1
        return out

    return pattern.sub(wrapper, text)


def _email(m: re.Match[str]) -> str | None:
    local, domain = m.group(1), m.group(2).lower()
    tld = domain.rsplit(".", 1)[-1]
    if not tld.isalpha() or len(tld) < 2 or tld in _NOT_TLD or domain.endswith(_EXAMPLE_DOMAINS):
        return None
    after = m.string[m.end() : m.end() + 1]
    # `git@github.com:owner/repo` and `user@host:path` are ssh remotes, not addresses,
    # and `https://user:pw@host/` is a URL (its password was handled before).
    if after == ":" or local in ("git", "hg"):
        return None
    if _URL_AUTHORITY_BEFORE.search(m.string, max(0, m.start() - 256), m.start()):
        return None
    return EMAIL_PLACEHOLDER


def _keep_value(group: int, kind: str, min_len: int = 1) -> Callable[[re.Match[str]], str | None]:
    """A replacement that swaps group `group` (a value, quotes kept) for a placeholder when literal."""

    def repl(m: re.Match[str]) -> str | None:
        value = m.group(group)
        if value is None or not _is_literal_value(value, min_len):
            return None
        start, end = m.start(group) - m.start(), m.end(group) - m.start()
        whole = m.group(0)
        return whole[:start] + _replace_value(value, kind) + whole[end:]

    return repl


def _assign(m: re.Match[str]) -> str | None:
    if not _SECRET_NAME.search(m.group(2)) or not _is_literal_value(m.group(4)):
        return None
    rest_of_line = m.string[m.end() :].split("\n", 1)[0]
    # `token=substr(...)` and `pw=os.environ[...]` are calls; `A = b ? c : d` is awk, not a setting.
    if rest_of_line[:1] in ("(", "[") or (m.group(3) != "=" and rest_of_line.strip()):
        return None
    return f"{m.group(1) or ''}{m.group(2)}{m.group(3)}{_replace_value(m.group(4), 'secret')}"


def _auth_header(m: re.Match[str]) -> str | None:
    group = 2 if m.group(1) is not None else 4
    return _keep_value(group, "token", min_len=8)(m)


def _curl_lines(text: str, counts: Counter[str]) -> str:
    """`curl -u user:pass` (only on lines that run curl: `docker --user 1000:1000` is no password)."""

    def line(m: re.Match[str]) -> str:
        if "curl" not in m.group(0):
            return m.group(0)
        return _sub(_CURL_USER, m.group(0), counts, "curl-user", _keep_value(3, "password"))

    return re.sub(r"[^\n]+", line, text)


_SECRET_HINTS = ("pass", "secret", "token", "key", "credential", "pw", "auth")
# (kind, line hints (ASCII lower-case), pattern, replacement) in the order they run.
_CONTEXT_RULES: tuple[
    tuple[str, tuple[str, ...], re.Pattern[str], Callable[[re.Match[str]], str | None]], ...
] = (
    ("url-password", ("://",), _URL_CREDENTIALS, _keep_value(3, "password")),
    ("auth-header", ("authorization", "api-key", "apikey", "-token"), _AUTH_HEADER, _auth_header),
    ("cli-password", _SECRET_HINTS, _FLAG_EQ, _keep_value(3, "password")),
    ("cli-password", _SECRET_HINTS, _FLAG_SPACE, _keep_value(3, "password")),
    ("cli-password", ("mysql", "mariadb"), _MYSQL_P, _keep_value(2, "password")),
    ("cli-password", ("sshpass",), _SSHPASS, _keep_value(2, "password")),
    ("cli-password", ("chpasswd",), _CHPASSWD, _keep_value(2, "password")),
    ("netrc-password", ("machine",), _NETRC, _keep_value(2, "password")),
    ("secret-assignment", _SECRET_HINTS, _ASSIGN, _assign),
    ("secret-assignment", _SECRET_HINTS, _KEY_VALUE_QUOTED, _keep_value(4, "secret")),
    ("secret-assignment", _SECRET_HINTS, _KEY_VALUE_LINE, _keep_value(2, "secret")),
    ("email", ("@",), _EMAIL, _email),
)
# Every context rule needs one of these on its line (all of its patterns are single-line):
# finding them with str.find and running the regexes on those lines only is ~20x faster
# than running each regex over whole files (Python's re has no multi-literal prefilter).
_LINE_HINTS = tuple(sorted({h for _, hints, _, _ in _CONTEXT_RULES for h in hints}))
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _hint_lines(lowered: str) -> list[tuple[int, int]]:
    """(start, end) of every line holding a hint, in order."""
    spans: set[tuple[int, int]] = set()
    for hint in _LINE_HINTS:
        i = lowered.find(hint)
        while i != -1:
            start = lowered.rfind("\n", 0, i) + 1
            end = lowered.find("\n", i)
            end = len(lowered) if end == -1 else end
            spans.add((start, end))
            i = lowered.find(hint, end)
    return sorted(spans)


def _scrub_line(line: str, counts: Counter[str]) -> str:
    for kind, hints, pattern, repl in _CONTEXT_RULES:
        if any(h in line.translate(_ASCII_LOWER) for h in hints):
            line = _sub(pattern, line, counts, kind, repl)
    return line


def scrub(text: str) -> Scrubbed:
    """Replace every credential in `text` with a placeholder; idempotent."""
    counts: Counter[str] = Counter()
    if "PRIVATE KEY" in text:
        text = _sub(_PEM_BLOCK, text, counts, "private-key", lambda m: placeholder("private-key"))
        text = _sub(_PEM_OPEN, text, counts, "private-key", lambda m: placeholder("private-key"))
    if "Private-Lines:" in text:
        text = _sub(
            _PUTTY, text, counts, "private-key", lambda m: "Private-Lines: 0\n" + placeholder("private-key")
        )
    for kind, hints, pattern in TOKEN_PATTERNS:
        if any(h in text for h in hints):
            text = _sub(pattern, text, counts, kind, lambda m, kind=kind: placeholder(kind))
    if "curl" in text:
        text = _curl_lines(text, counts)
    # ASCII-only lowering keeps every index of `lowered` valid in `text`.
    pieces: list[str] = []
    last = 0
    for start, end in _hint_lines(text.translate(_ASCII_LOWER)):
        pieces += [text[last:start], _scrub_line(text[start:end], counts)]
        last = end
    pieces.append(text[last:])
    return Scrubbed("".join(pieces), counts)

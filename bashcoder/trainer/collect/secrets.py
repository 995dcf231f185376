"""Credential and address scrubbing: a pure function from text to text with placeholders, plus counts per kind.

`scrub` runs, in order: private-key blocks and token formats; passwords in
URLs and connection strings, headers (any Authorization scheme, vendors'
token headers), flags (any option named for a secret), literals piped or
here-strung to a command's password stdin, SQL strings, debconf answers,
sed replacements, assignments, Java properties and -D flags, Dockerfile
ENV, XML and PHP settings, parameter-expansion defaults, arrays, helm's
--set, .pgpass, YAML and config lines, base64 `user:password` where
credentials go, here-documents that answer password prompts or write a
credentials file, and e-mail addresses except generic ones such as
root@localhost, as BigCode's PII pipeline does (all in this module);
passwords given to common tools, also on continuation lines (secret_commands);
Yelp's detect-secrets plugins for the rest (secret_detectors). Each
replacement is counted under its rule's kind; a later rule never takes a
placeholder for a secret, so the counts do not overlap.

Placeholders are bare words (`REDACTED_GITHUB_TOKEN`) or a documentation
address (`user@example.com`), so scrubbed scripts still parse and a second
pass changes nothing (scrub is idempotent). Expansions such as `$TOKEN` or
`$(pass show x)` are code, not secrets, and are left alone.

Token formats follow gitleaks where detect-secrets lacks them (sk-proj-,
github_pat_, glpat- ...); the context rules are shell-specific, which is why
they live here rather than in a detector library. bench/scrub_corpus.py
measures the counts, the speed and a sample of replacements on a real corpus.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from bashcoder.trainer.collect.secret_commands import scrub_commands
from bashcoder.trainer.collect.secret_detectors import public_key_file, scrub_detected
from bashcoder.trainer.collect.secret_values import (
    PLACEHOLDER_PREFIX,
    holds_secret,
    is_literal_value,
    is_secret_name,
    looks_random,
    placeholder,
    replace_value,
    sub,
)

__all__ = ["EMAIL_PLACEHOLDER", "PLACEHOLDER_PREFIX", "TOKEN_PATTERNS", "Scrubbed", "placeholder", "scrub"]

EMAIL_PLACEHOLDER = "user@example.com"


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
        ("terraform-token", ("atlasv1",), r"\b[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_\-=]{60,70}" + _END),
        (
            "tailscale-key",
            ("tskey-",),
            r"\btskey-(?:auth|api|client|scim|webhook)-[A-Za-z0-9_\-]{10,}" + _END,
        ),
        ("linear-key", ("lin_api_",), r"\blin_api_[A-Za-z0-9]{40}" + _END),
        (
            "grafana-token",
            ("glsa_", "glc_"),
            r"\b(?:glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}|glc_[A-Za-z0-9+/]{32,400}={0,2})" + _END,
        ),
        ("doppler-token", ("dp.",), r"\bdp\.(?:st|ct|sa|scim|audit|pt)\.[A-Za-z0-9_\-.]{40,}" + _END),
        ("netlify-token", ("nfp_",), r"\bnfp_[A-Za-z0-9]{36,}" + _END),
        ("figma-token", ("figd_",), r"\bfigd_[A-Za-z0-9_\-]{30,}" + _END),
        (
            "teams-webhook",
            ("webhook.office.com",),
            r"https://[\w.\-]*webhook\.office\.com/webhookb2/[A-Za-z0-9@/\-]{30,}",
        ),
        ("mattermost-webhook", ("/hooks/",), r"https?://[\w.\-]+(?::\d+)?/hooks/[a-z0-9]{26}\b"),
        (
            "ifttt-webhook",
            ("ifttt.com",),
            r"https://maker\.ifttt\.com/trigger/[^/\s'\"]+/with/key/[A-Za-z0-9_\-]{16,}",
        ),
        # NuGet.org API keys (gitleaks has none; the format is documented by NuGet's own scanner
        # partner list: `oy2` and 43 lower-case letters and digits). A few more characters too (a key
        # pasted with some extra is still one), not many: a v3 .onion address is 56 of base32.
        ("nuget-key", ("oy2",), r"\boy2[a-z0-9]{43,50}\b"),
        # age's secret keys (bech32, upper-case when printed; age-keygen writes them to keys.txt).
        ("age-secret-key", ("AGE-SECRET-KEY-1",), r"\bAGE-SECRET-KEY-1[0-9A-Z]{58}\b"),
        (
            "zapier-webhook",
            ("hooks.zapier.com",),
            r"https://hooks\.zapier\.com/hooks/catch/\d+/[A-Za-z0-9]{5,}/?",
        ),
        (
            "rocketchat-webhook",
            ("/hooks/",),
            r"https?://[\w.\-]+(?::\d+)?/hooks/[A-Za-z0-9]{17}/[A-Za-z0-9]{40,}",
        ),
        # Ceph's secret keys (a keyring's `key = AQ...==`): base64 of a 28-byte record that starts AQ.
        ("ceph-key", ("AQ",), r"(?<![A-Za-z0-9+/])AQ[A-Za-z0-9+/]{38}=="),
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
# OpenVPN's shared secret (tls-auth / tls-crypt / static key), often written inline in a .ovpn file.
_OPENVPN_KEY = re.compile(
    r"-----BEGIN OpenVPN Static key V1-----.{0,8192}?-----END OpenVPN Static key V1-----", re.S
)
_PUTTY = re.compile(r"Private-Lines: \d+\r?\n(?:[A-Za-z0-9+/=]{8,}\r?\n?)+(?:Private-MAC: [0-9a-f]+)?")

# --- secrets inside a context: only one group is the secret -----------------
_LITERAL = r"[^\s'\"`$\\;|&<>(){}\]]+"  # `]` ends it: `[--password PW]` in a usage line
# The user may be empty: `redis://:PW@host` is how Redis URLs carry a password alone.
_URL_CREDENTIALS = re.compile(r"\b([A-Za-z][A-Za-z0-9+.\-]{1,15}://)([^\s:/@'\"`]*):([^\s@/'\"`]+)@")
_AUTH_HEADER = re.compile(
    # Any scheme: Bearer, Basic, token, Okta's SSWS, Splunk's `Splunk`, Zoho's `Zoho-oauthtoken`.
    r"((?:Authorization|Proxy-Authorization)\s*:\s*['\"]?(?:[A-Za-z][\w-]{1,30}\s+|key=))"
    r"(" + _LITERAL + r")"
    r"|((?:X-)?(?:API-?Key|Auth-?Token|Access-?Token|Private-?Token|Api-?Token|Vault-?Token)\s*:\s*)"
    r"(" + _LITERAL + r")",
    re.I,
)
# Vendors' own headers: Circle-Token, X-Auth-Key, X-Figma-Token, Postmark-Server-Token, Datadog's
# DD-APPLICATION-KEY, Azure's Ocp-Apim-Subscription-Key (a random-looking value only). A `-Key` only after a word that makes it a credential: Sec-WebSocket-Key,
# Idempotency-Key and X-Cache-Key are not secrets.
_VENDOR_HEADER = re.compile(
    r"((?<![\w-])(?:(?:[A-Za-z0-9]+-)+(?:Token|Secret|Password|Passwd|Auth)|(?:[A-Za-z0-9]+-)*(?:Api|Auth|Access|Secret|Private|Application|Subscription|App|Master|License|Admin)-?Key"
    r"|X-Honeycomb-Team)"
    r"\s*:\s*)(" + _LITERAL + r")",
    re.I,
)
# A session cookie sent with a request: Cookie: sessionid=X (a random-looking value).
_COOKIE = re.compile(
    r"(\bCookie\s*:\s*(?:[^;'\"\n]{0,500};)*?\s*[\w.\-]{0,64}?(?:sess|sid|token|auth)[\w.\-]{0,64}=)([^;'\"\s]+)",
    re.I,
)
# A token used as a URL's user, no password: https://TOKEN@github.com/owner/repo.git.
_URL_TOKEN_USER = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.\-]{1,15}://)([A-Za-z0-9_\-]{20,})(?=@)")
# ... not a user name of hyphenated words (Azure DevOps: https://contoso-engineering-2024@dev.azure.com).
_HYPHENATED_NAME = re.compile(r"[A-Za-z]{3,}-[A-Za-z]")
# jenkins-cli's -auth user:PW.
_JENKINS_AUTH = re.compile(r"((?<![\w-])-auth[ \t]+['\"]?[\w.@\-]+:)([^\s'\"$`@]+)")
_CURL_USER = re.compile(
    r"(\s(?:-u|--user|--proxy-user|-U)\s*['\"]?)([^\s:'\"$]+|\$\{?\w+\}?):('[^'\n]+'|\"[^\"\n]+\"|[^\s'\"]+)"
)
_SECRET_WORDS = (
    r"(?:password|passwd|pass|passphrase|secret|token|authtoken|authkey|bearer|requirepass|masterauth"
    r"|api[-_]?key|access[-_]?key|secret[-_]?key|auth[-_]?key)"
)
# --db-password=PW, --secret_key=PW, consul's -token=PW.
_FLAG_EQ = re.compile(r"((?<![\w-])--?(?:[a-z0-9]+[-_])*" + _SECRET_WORDS + r"=)(['\"]?)(" + _LITERAL + r")")
# Any other option named for a secret, its value the next word: --master-user-password PW,
# --github-token PW, nomad's -token PW, nuget's -Password PW. Only a random-looking value:
# `--ask-vault-pass site.yml` and `--no-password mydb` are switches before a plain word.
_FLAG_SPACE_ANY = re.compile(
    r"((?<![\w-])--?(?:[A-Za-z0-9]+[-_])*" + _SECRET_WORDS + r"[ \t]+)(['\"]?)(" + _LITERAL + r")", re.I
)
_FLAG_SPACE = re.compile(
    r"(--(?:password|passwd|pass|passphrase|secret|token|api-?key|client-secret|access-token|auth-token"
    r"|http-password|ftp-password|proxy-password|db-password|admin-password|root-password|bot-token"
    r"|account-key|sas-token|oauth2-bearer|authtoken|api-token|secret-key|secret-access-key|private-token"
    r"|deploy-token|registration-token|token-secret)"
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
_CHPASSWD = re.compile(
    r"(\becho(?:[ \t]+-[neE]+)*\s+['\"]?[\w.\-]+:)([^\s'\"$`:]+)(['\"]?\s*\|\s*(?:sudo\s+)?chpasswd\b)"
)
_NETRC = re.compile(r"(\bmachine\s+\S+\s+login\s+\S+\s+password\s+)([^\s$'\"`]+)")

# Assignments: NAME=value where NAME holds a secret (secret_values.is_secret_name) and value is literal.
_ASSIGN = re.compile(
    r"(?<![\w$.{-])((?:export|local|readonly|declare(?:\s+-\w+)*|typeset(?:\s+-\w+)*)\s+)?"
    # The name must contain a secret word (checked exactly by is_secret_name); matching it here
    # keeps the Python callback off the thousands of ordinary assignments.
    # Bounded: `\w*?...\w*` tried every split of a 20 KB word (seconds a line); names are short.
    r"((?=[A-Za-z_])\w{0,64}?(?i:token|passwd|password|passphrase|secret|key|cred(?:entials?|s)|pass|pwd?|psk|auth|hmac|cookie)\w{0,64})"
    r"(=|[ \t]+=[ \t]+)"
    r"('[^'\n]*'|\"(?:[^\"\\\n]|\\.)*\"|[^\s'\"`;|&<>()\[\]{},]*)"
)
# Java properties and -D/-P flags: spring.datasource.password=PW, -Dsonar.token=PW,
# -Djavax.net.ssl.keyStorePassword=PW; the last dotted part names the value.
_DOTTED_KEY = re.compile(
    r"(?<![\w$.{-])((?:-[DP])?(?:[A-Za-z][\w-]*\.)+([A-Za-z][\w-]*)[ \t]*=[ \t]*)"
    r"('[^'\n]*'|\"[^\"\n]*\"|[^\s'\"`;|&<>()\[\]{},]+)"
)
# YAML (compose `environment:` maps, values written with echo or tee): MYSQL_ROOT_PASSWORD: PW,
# api_key: PW. Only a random-looking value: `Password: updated` is a message.
_COLON_KEY = re.compile(
    r"(?:^|(?<=[\s\"'{,:]))([A-Za-z_][\w.-]*[ \t]*:[ \t]+)(['\"]?)([A-Za-z0-9_\-+/=!#%&*@^~.]{8,200}?)\2(?=[ \t]*(?:$|[\"',}]|[ \t]\#))",
    re.M,
)
# A Dockerfile's space form: ENV POSTGRES_PASSWORD PW.
_DOCKER_ENV = re.compile(r"^([ \t]*ENV[ \t]+(\w+)[ \t]+)(\S+)[ \t]*$", re.M)
# Redis: requirepass PW in redis.conf, --requirepass PW, CONFIG SET requirepass PW; masterauth alike.
_REDIS_PASS = re.compile(
    r"(\b(?:--)?(?:requirepass|masterauth)[ \t]+)('[^'\n]+'|\"[^\"\n]+\"|" + _LITERAL + r")", re.I
)
# .npmrc's _auth=BASE64(user:password).
_NPM_AUTH = re.compile(r"((?<![\w-])_?auth[ \t]*=[ \t]*['\"]?)([A-Za-z0-9+/]{12,}={0,2})(?![A-Za-z0-9+/=])")
# Here-strings into commands that read a password: sudo -S cmd <<< PW, chpasswd <<< user:PW.
_SUDO_HERESTRING = re.compile(
    r"(\bsudo[ \t]+(?:-\w+[ \t]+)*-\w*S\b[^\n<]{0,300}<<<[ \t]*)('[^'\n]+'|\"[^\"\n$`]+\"|[^\s'\"$`]+)"
)
_CHPASSWD_HERESTRING = re.compile(r"(\bchpasswd\b[^\n<]{0,300}<<<[ \t]*['\"]?[\w.\-]+:)([^\s'\"$`:]+)")
# JSON/YAML/INI inside heredocs: "password": "x", password: x, password = x
_KEY_VALUE_QUOTED = re.compile(
    r"([\"']?)\b((?:client[_-]?)?(?:password|passwd|pwd|passphrase|secret|token|api[_-]?key|access[_-]?key"
    r"|secret[_-]?key|auth[_-]?token|private[_-]?key(?:[_-]?id)?)\1\s*:\s*)([\"'])([^\s\"'$`{}]+)\3",
    re.I,
)
# The same in JSON written inside a double-quoted shell string: -d "{\"password\":\"PW\"}".
_KEY_VALUE_ESCAPED = re.compile(
    r"(\\\"(?:client[_-]?)?(?:password|passwd|pwd|passphrase|secret|token|api[_-]?key|access[_-]?key"
    r"|secret[_-]?key|auth[_-]?token|private[_-]?key)\\\"\s*:\s*\\\")([^\s\"'$`{}\\]+)(?=\\\")",
    re.I,
)
# keepalived's `auth_pass PW` (space-separated; a random-looking value only).
_AUTH_PASS_LINE = re.compile(r"^([ \t]*auth_pass[ \t]+)([^\s#'\"$`{][^\s#'\"$`]*)[ \t]*$", re.M)
_KEY_VALUE_LINE = re.compile(
    r"^(\s*(?:(?:password|passwd|passphrase|secret|token|api[_-]?key|secret[_-]?key|auth[_-]?token)\s*[:=]\s*"
    r"))([^\s#'\"$`{][^\s#'\"$`]*)[ \t]*$",
    re.I | re.M,
)
# A .netrc's lines (`machine h`, `login u`, `password PW`), one to a line; `passwd root` is a command,
# and a here-document's "Password changed" is prose: only a random-looking value counts.
_NETRC_LINE = re.compile(r"^([ \t]*password[ \t]+)([^\s#'\"$`{][^\s#'\"$`]*)[ \t]*$", re.M)
# A comment that gives a password: `# password: PW` (`# token: uuid` documents a field).
_COMMENT_PASSWORD = re.compile(
    r"^(\s*\#+[ \t]*(?:password|passwd|passphrase)[ \t]*[:=][ \t]*)([^\s'\"$`{][^\s'\"$`]*)[ \t]*$",
    re.I | re.M,
)
# Prose in a comment that gives one: `# the admin password is PW, change it`, `# root password: PW`
# (only a random-looking value: `# the password is required` is prose about one).
_PROSE_PASSWORD = re.compile(
    r"((?:^|(?<=\s))\#[^\n#]{0,200}?\b(?:password|passwd|passphrase)(?:[ \t]*[:=]|[ \t]+(?:is|was))[ \t]+['\"]?)"
    r"([A-Za-z0-9_\-+/=]{8,200})(?=['\"]?[.,;:!?)]?(?:\s|$))",
    re.I | re.M,
)
# Directives of server configuration files that take a password: slapd's `rootpw PW`, offlineimap's
# `remotepass = PW`, haproxy's `stats auth admin:PW` and `insecure-password PW`, freeradius's
# `Cleartext-Password := "PW"`, snmpd's `rocommunity COMMUNITY`, fetchmail's `password "PW"`
# (a password-like value only: `password required` in PAM, `password "$PW"` are not).
_CONFIG_PASSWORD = re.compile(
    r"((?:(?:^[ \t]*|(?<=['\"])|(?<=\\n))(?:rootpw|remotepass(?:word)?|localpass(?:word)?|rocommunity6?|rwcommunity6?)"
    r"(?:[ \t]*=[ \t]*|[ \t]+)"
    r"|\bstats[ \t]+auth[ \t]+[^\s:]+:|\binsecure-password[ \t]+|\bCleartext-Password[ \t]*:=[ \t]*"
    r"|\bpassword[ \t]+(?=[\"']))"
    r")(['\"]?)([^\s'\"]+)\2",
    re.I | re.M,
)


def _config_password(m: re.Match[str]) -> str | None:
    value = m.group(3)
    if not (looks_random(value) or _punctuated_password(value)) or not is_literal_value(value):
        return None
    return m.group(1) + m.group(2) + placeholder("password") + m.group(2)


# A password passed to a login or auth call in code a script writes or runs: Python's
# `s.login("alerts", "PW")`, mongo's `db.auth("root", "PW")` (not `.connect`: its second argument
# is often the user).
_AUTH_CALL = re.compile(
    r"(\.(?:login|auth|authenticate|starttls_login)\(\s*(?:\w+\s*=\s*)?(['\"])[^'\"\n]{1,64}\2\s*,\s*"
    r"(?:(?:password|passwd|pwd|secret)\s*=\s*)?)"
    r"(['\"])([^'\"\n]{6,200})\3"
)
# db2's `connect to DB user U using PW`.
_DB2_USING = re.compile(
    r"(?i)(\bconnect[ \t]+to[ \t]+\S+[ \t]+user[ \t]+\S+[ \t]+using[ \t]+)(['\"]?)([^\s'\"]+)\2"
)
# Oracle's `CONNECT user/PW@db` (sqlplus, rman) on its own line, in a here-document or -S script.
_ORACLE_CONNECT = re.compile(r"(?im)(^[ \t]*(?:CONN|CONNECT)[ \t]+[\w$#]+/)([^\s@/'\"]+)(?=@|[ \t]|$)")
# impacket's `DOMAIN/user:PW@host` (secretsdump.py, psexec.py, wmiexec.py, GetUserSPNs.py ...).
_IMPACKET_TARGET = re.compile(r"((?:^|[\s'\"])[\w.\-]*/[\w.$\-]+:)([^@\s'\"]+)(?=@[\w.\-]+)")
# A setting named auth with user:PW: filebeat's `-E cloud.auth=elastic:PW`, `cloud.auth: "u:PW"`.
_AUTH_SETTING = re.compile(r"((?<![\w.])[\w.]*\.auth[ \t]*[:=][ \t]*['\"]?[\w.@\-]+:)([^\s'\"@]+)")
# A secret-named setting of a build DSL, a name then a quoted value: Gradle's `storePassword "PW"`,
# Leiningen's `:password "PW"`.
_DSL_SETTING = re.compile(
    r"(?m)(^[ \t]*:?([A-Za-z_][\w-]{0,63})[ \t]+)(['\"])([^'\"\n$]{6,200})\3[ \t]*(?:,[ \t]*)?$"
)
# kubectl create secret ... --from-literal=NAME=VALUE with any secret name, hyphens too (api-key).
_FROM_LITERAL = re.compile(r"(--from-literal[ =]['\"]?([\w.\-]+)=)([^\s'\"]+)")
# OpenWrt's Wi-Fi key: uci set wireless.@wifi-iface[0].key=PW.
_UCI_WIFI_KEY = re.compile(r"(\bwireless\.[@\w\[\].\-]*\.key=)(['\"]?)([^\s'\"]+)\2")
# Yarn Berry's npmAuthIdent: "user:PW".
_NPM_AUTH_IDENT = re.compile(r"(\bnpmAuthIdent[ \t]*:[ \t]*['\"]?[^\s:'\"]+:)([^\s'\"]+)")
# Ceph keyrings' `key = AQ...==` (a base64 key whose first bytes are Ceph's header).
_CEPH_KEY = re.compile(r"(\bkey[ \t]*=[ \t]*)(AQ[A-Za-z0-9+/]{30,}={0,2})(?![A-Za-z0-9+/=])")
# Consul's gossip key in its JSON configuration: `"encrypt": "BASE64"`.
_JSON_ENCRYPT = re.compile(r"(\"encrypt\"[ \t]*:[ \t]*\")([A-Za-z0-9+/]{22,}={0,2})(?=\")")
# Redis ACL rules: `>PW` adds a password to the user (`ACL SETUSER app on >PW ~app:* +@all`).
_REDIS_ACL = re.compile(r"(?i:(\bACL[ \t]+SETUSER\b[^\n]*?[ \t]['\"]?>))([^\s'\"]+)")
# Bundler's per-host credentials: `bundle config [--global] gems.example.com user:PW`.
_BUNDLE_CONFIG = re.compile(
    r"(\bbundle[ \t]+config[ \t]+(?:--(?:global|local)[ \t]+)?(?:set[ \t]+)?"
    r"[\w-]+(?:\.[\w-]+)+[ \t]+['\"]?[^\s:'\"]+:)([^\s'\"]+)"
)
# Composer's auth JSON keyed by host (COMPOSER_AUTH, auth.json): `"github-oauth": {"github.com": "TOKEN"}`.
_COMPOSER_HOST_TOKEN = re.compile(
    r"(\"(?:github-oauth|gitlab-token|gitlab-oauth|bitbucket-oauth)\"[ \t]*:[ \t]*\{[ \t]*\"[^\"\n]+\"[ \t]*:[ \t]*\")"
    r"([^\"\n]+)(?=\")"
)


def _password_like(group: int, kind: str = "password") -> Callable[[re.Match[str]], str | None]:
    """Group `group` replaced when it looks like a password (random, or punctuated) and is literal."""

    def repl(m: re.Match[str]) -> str | None:
        value = m.group(group)
        if not is_literal_value(value) or not (looks_random(value) or _punctuated_password(value)):
            return None
        return m.string[m.start() : m.start(group)] + placeholder(kind) + m.string[m.end(group) : m.end()]

    return repl


def _dsl_setting(m: re.Match[str]) -> str | None:
    if not is_secret_name(m.group(2)) or _VERB_FIRST.match(m.group(2)) or not _generated(m.group(4)):
        return None
    return _password_like(4)(m)


# A function's name that says what it does to a secret (`get_secret "arn:..."`, `rotate_password u`):
# its argument names the secret.
_VERB_FIRST = re.compile(
    r"(?i)(?:get|fetch|load|read|create|rotate|ensure|show|print|set|check|delete|remove|rm|update|gen|generate"
    r"|make|add|put|list|describe|lookup|find|use|write|reset|verify|validate|prompt|ask|request"
    r"|retrieve|decrypt|encrypt|export|import)(?:[_-]|(?=[A-Z]))"
)


def _generated(value: str) -> bool:
    """A generated value, not a name or a path: both cases and digits or punctuation, no `:`, and
    no `/` unless it mixes case and digits (`prod/db2/password` is a secret's path)."""
    inner = value.strip("'\"")
    if ":" in inner or ("/" in inner and not _strong(inner)):
        return False
    return _strong(inner) or _punctuated_password(inner)


def _from_literal(m: re.Match[str]) -> str | None:
    if not holds_secret(m.group(2).replace("-", "_").replace(".", "_"), m.group(3)):
        return None
    return m.group(1) + replace_value(m.group(3), "secret")


# curl's -u TOKEN: (SonarQube, Mailgun-style APIs take a token as the user and no password).
_CURL_TOKEN_USER = re.compile(
    r"((?<![\w-])(?:-u|--user)[ \t]*['\"]?)([A-Za-z0-9_\-]{20,})(?=:['\"]?(?:\s|$))"
)


def _curl_token_user(m: re.Match[str]) -> str | None:
    if re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)+", m.group(2), re.I):  # a user name: jenkins-ci-bot-2024
        return None
    return _random_value(2, "token", strong=True)(m)


# A password in a sentence a script prints or a comment says: `echo "The admin password is PW"`,
# `# API key: KEY`, `# default login: admin / PW`.
_SAID_SECRET = re.compile(
    r"((?:\becho\b|\bprintf\b|(?:^|(?<=\s))\#)[^\n]{0,200}?"
    r"(?:\b(?:password|passwd|passphrase|api[ _-]?key|access[ _-]?token|token|secret)(?:[ \t]*[:=]|[ \t]+(?:is|was))"
    r"|\blogin[ \t]*:[ \t]*[\w.@\-]+[ \t]*/)[ \t]+['\"]?)"
    r"([A-Za-z0-9_\-+/=!#%&*@^~.]{8,200}?)(?=['\"]?[.,;:!?)]?(?:\s|$))",
    re.I | re.M,
)


_DESCRIBING_VALUE = re.compile(
    r"(?i)[\w-]*(?:encoded|encrypted|signed|hashed|generated|protected|based|secret|token|password|key)$"
    r"|[a-z0-9]+(?:-[a-z0-9]+)+"  # AES-256-GCM, RS256-signed, UTF8-encoded
)


def _said_secret(m: re.Match[str]) -> str | None:
    value = m.group(2)
    if "/" in value or _DESCRIBING_VALUE.fullmatch(value):
        return None
    if not (
        looks_random(value) and _strong(value) or _punctuated_password(value)
    ) or _HYPHENATED_WORDS.fullmatch(value):
        return None
    if not is_literal_value(value):
        return None
    return m.group(1) + placeholder("password")


# Bundler's credentials for a gem server in the environment: BUNDLE_GEMS__EXAMPLE__COM=user:PW.
_BUNDLE_HOST = re.compile(r"(\bBUNDLE_([A-Z0-9_]+)=['\"]?[^\s:'\"$]+:)([^\s'\"$]+)")


def _bundle_host(m: re.Match[str]) -> str | None:
    """A gem server's credentials: the name holds the host, `__` for its dots (BUNDLE_GEMS__X__COM)."""
    return _keep_value(3, "password")(m) if "__" in m.group(2) else None


_HYPHENATED_WORDS = re.compile(r"[a-z0-9]+(?:-[a-z]+)+")  # base64-encoded, sha512-hashed: prose
# A key written to a key file: `echo KEY > config/master.key`, `printf '%s' TOKEN > ~/.vault-token`.
_SECRET_FILE_WRITE = re.compile(
    r"(\b(?:echo(?:[ \t]+-[neE]{1,3})?|printf(?:[ \t]+(?:'%s(?:\\n)?'|\"%s(?:\\n)?\"))?)[ \t]+)"
    r"('[^'\n]{8,200}'|\"(?:[^\"$`\\\n]|\\n){8,200}\"|[A-Za-z0-9_\-+/=]{8,200})"
    r"([ \t]*(?:>>?|\|[ \t]*(?:sudo[ \t]+)?tee(?:[ \t]+-a)?)[ \t]*['\"]?)([^\s'\";|&<>]{1,300})"
)
# OpenVPN's `--auth-user-pass auth.txt` too (not auth.log, AUTHORS, oauth2.conf or authorized_keys).
_SECRET_FILE = re.compile(
    r"(?:\.(?:key|pem)|(?:secret|token|passw|credential)[^/]*|[._]pass(?:\.txt)?"
    r"|(?:^|[/._-])auth(?:[._-]user[._-]pass)?(?:\.txt)?|pgbouncer/userlist\.txt)['\"]?$",
    re.I,
)
# A file a here-document's lines are credentials in (a stricter list than `_SECRET_FILE`, which a
# one-line write may match by a word: a here-document holds whole files, `token_types.h` too).
_CREDENTIALS_FILE = re.compile(
    r"(?:^|/)(?:chap-secrets|pap-secrets|[\w.-]*\.secrets?|userlist\.txt|(?:[\w-]*[._-])?auth(?:[._-]user[._-]pass)?"
    r"(?:\.txt)?|[\w.-]*\.pass|\.?vault[_-]pass(?:word)?(?:\.txt)?)$",
    re.I,
)
# Where a line's output goes: `> FILE`, `>> FILE`, `tee [-a] FILE`.
_WRITE_TARGET = re.compile(r"(?:>>?|\btee(?:[ \t]+-a)?)[ \t]*['\"]?([^\s'\";|&<>]+)")
# A here-document: delimiter, the rest of its line, body. Matched from the `<<` on (a search from
# every line start for the command cost ~13% of scrub's time); `_heredoc` reads the line before
# it: a tool answering prompts, or a credentials file written (`cat > /etc/pgbouncer/userlist.txt
# <<EOF`, `tee -a /etc/ppp/chap-secrets <<EOF`, `cat <<EOF > auth.txt`). The body is taken a line
# at a time (a character at a time took 1 s on 3,000 openers without an end); the delimiter is
# capped and must end there (`(\w+)` backtracked through a 20 KB word: 3.5 s).
_HEREDOC = re.compile(
    r"<<-?[ \t]*['\"]?(\w{1,64})(?!\w)['\"]?([^\n]*)\n((?:[^\n]*\n){0,300}?)[ \t]*\1[ \t]*$", re.M
)
# The fields of a credentials line: `user:PW` (rsyncd.secrets), `"user" server "PW" *` (chap-secrets),
# and `echo -e "user\nPW"` (an auth-user-pass file: user on the first line, password on the second).
_FILE_FIELD = re.compile(r"(?<=:)[^\s:'\"\\]+|(?<![^\s'\"])[^\s:'\"\\]+(?![^\s'\"\\])|(?<=\\n)[^\s:'\"\\]+")
# SQL in a string: CREATE USER ... IDENTIFIED BY 'PW', WITH [ENCRYPTED] PASSWORD 'PW', LOGIN PASSWORD
# 'PW', SET PASSWORD [FOR u] = 'PW' or PASSWORD('PW').
_SQL_PASSWORD = re.compile(
    r"((?:\bIDENTIFIED(?:\s+WITH\s+\w+)?\s+BY|\b(?:WITH|LOGIN|ENCRYPTED)\s+PASSWORD"
    r"|\b(?:ALTER|CREATE)\s+(?:USER|ROLE)\s+[\w\"'.@%\-]+\s+(?:WITH\s+)?PASSWORD"
    r"|\bSET\s+PASSWORD(?:\s+FOR\s+\S+)?\s*=(?:\s*PASSWORD\s*\()?|\bPASSWORD\s*\()\s*)"
    r"('[^'\n]+'|\"[^\"\\\n]+\")",
    re.I,
)
# Oracle's unquoted form: CREATE USER app IDENTIFIED BY PW (a random-looking word only: `BY VALUES`).
_SQL_UNQUOTED = re.compile(r"(\bIDENTIFIED\s+BY\s+)([A-Za-z0-9_#$]{8,128})\b", re.I)
# XML settings: <password>PW</password>, NuGet's <add key="ClearTextPassword" value="PW" />.
_XML_ELEMENT = re.compile(r"(<([\w:.\-]{1,64})>)([^<>\s]{1,256})(</\2>)")
_XML_KEY_VALUE = re.compile(r"(\bkey=\"([\w:.\-]{1,64})\"\s+value=\")([^\"<>\s]{1,256})\"")
# PHP's define('DB_PASSWORD', 'PW') in a wp-config.php written by the script.
_PHP_DEFINE = re.compile(r"(\bdefine\(\s*['\"](\w+)['\"]\s*,\s*)('[^'\n]*'|\"[^\"\n]*\")")
# debconf preseeding: `mysql-server mysql-server/root_password password PW`.
_DEBCONF = re.compile(
    r"((?<![\w.+\-])[\w.+\-]{1,100}/([\w/\-]{0,100}pass[\w\-]{0,40})[ \t]+(?:password|string)[ \t]+)([^\s'\"`|;&]+)",
    re.I,
)
# The template names a password (root_password, app-password-confirm), not how one is kept (passwd-hash-algo).
_DEBCONF_PASSWORD = re.compile(
    r"(?:^|[/_\-])(?:password|passwd|pass|passphrase)(?:[_\-](?:again|confirm|repeat|verify|\d))*$", re.I
)
# ODBC/ADO.NET connection strings: ...;Uid=app;Pwd=PW; and Password=PW;.
_CONNECTION_PASSWORD = re.compile(
    r"(;[ \t]*(?:Pwd|Password)[ \t]*=[ \t]*)([^;'\"\s()\[\]]+)(?=;|['\"]|\s|$)", re.I
)
# An Azure SAS URL's signature: ?sv=...&sig=SIG.
# A URL's query parameter named for a secret, or one of the short names services give their keys
# (Azure Functions' code=, Firebase's auth=, OpenWeather's appid=, Google's key=, S3's presigned
# X-Amz-Signature): a random-looking value of 12+ characters only (`?auth=true`, `&key=name` are not).
_URL_QUERY = re.compile(r"([?&]([A-Za-z][\w.\-]{0,40})=)([A-Za-z0-9_\-+/%.~]{12,}=*)(?=[&#'\"\s]|$)")
_QUERY_KEY_NAMES = frozenset(
    {"CODE", "AUTH", "APPID", "KEY", "SIG", "SIGNATURE", "X_AMZ_SIGNATURE", "SECRET"}
)


def _url_query(m: re.Match[str]) -> str | None:
    name = re.sub(r"[.\-]", "_", m.group(2)).upper()
    value = m.group(3).replace("%2B", "+").replace("%2F", "/").replace("%3D", "=").rstrip("=")
    if value.startswith(PLACEHOLDER_PREFIX) or not looks_random(value.replace(".", "")):
        return None
    if not is_secret_name(name) and not (
        name in _QUERY_KEY_NAMES
        and "." not in value
        and (
            len(value) >= 24 or all(any(f(c) for c in value) for f in (str.isupper, str.islower, str.isdigit))
        )
    ):
        return None
    return m.group(1) + placeholder("token")


_SAS_SIGNATURE = re.compile(r"([?&]sig=)([A-Za-z0-9%+/]{30,}(?:=|%3D){0,2})")
# A user:password piped into base64 (to build a Basic header or a registry auth).
_BASE64_INPUT = re.compile(
    r"(\b(?:echo|printf)(?:[ \t]+-[neE]+)*(?:[ \t]+['\"]%s['\"])?[ \t]+['\"]?[\w.@+\-]+:)([^\s'\"$`:]+)(['\"]?[ \t]*\|[ \t]*base64\b)"
)
# The same literal echoed twice into a command: a password and its confirmation, (echo PW; echo PW) | smbpasswd -s.
_ECHO_TWICE = re.compile(
    r"(\(\s*(?:echo|printf)(?:[ \t]+-[neE]+)*[ \t]+)(['\"]?)([^\s'\"$`;()]{6,})\2([ \t]*;[ \t]*(?:echo|printf)(?:[ \t]+-[neE]+)*[ \t]+)\2\3\2(?=[ \t]*;?[ \t]*\)[ \t]*\|)"
)
# A function named for a secret that prints one literal: `get_db_password() { echo "PW"; }`, also
# `function api_token {`; a random-looking value only (`password_hint() { echo none; }` is not one).
_SECRET_FUNCTION = re.compile(
    # Each run of blanks has one way to match (a blank run, then optionally a newline and another):
    # two runs side by side around an optional part backtracked to seconds on a line of spaces.
    r"((?<![\w-])(?:function[ \t]+([A-Za-z_][\w-]{0,63})[ \t]*(?:\(\)[ \t]*)?|([A-Za-z_][\w-]{0,63})[ \t]*\(\)[ \t]*)"
    r"\{[ \t]*(?:\n[ \t]*)?(?:echo|printf)(?:[ \t]+-[neE]+)*[ \t]+(?:(['\"])%s(?:\\n)?\4[ \t]+)?)"
    r"(['\"]?)([^\s'\"$`;|&<>(){}\\]{8,200})\5(?=[ \t]*(?:;[ \t]*)?(?:\n[ \t]*)?\})"
)
# Spans lines, so not a line rule: runs on texts where a brace opens onto an echo or printf.
_FUNCTION_PRINTS = re.compile(r"\{[ \t]*(?:\n[ \t]*)?(?:echo|printf)\b")
# An IPsec pre-shared key (`: PSK "X"`) and a wpa_supplicant's psk="X".
_PSK = re.compile(r"(\b(?:PSK[ \t]+|psk[ \t]*=[ \t]*))(\"[^\"\n$`]+\"|'[^'\n]+')")
# Ansible's password={{ 'PW' | password_hash(...) }}.
_JINJA_LITERAL = re.compile(r"(\b(\w{0,40}pass\w{0,40})=\{\{\s*['\"])([^'\"\s]+)(['\"]\s*\|)")
# MongoDB's db.changeUserPassword('user', 'PW').
_MONGO_CHANGE = re.compile(r"(\bchangeUserPassword\(\s*['\"][^'\"]+['\"]\s*,\s*)('[^'\n]+'|\"[^\"\n]+\")")
# An associative array's element on its own line: `  [password]=PW` inside declare -A x=( ... ).
_ARRAY_LINE = re.compile(r"^([ \t]*\[['\"]?(\w+)['\"]?\]=)('[^'\n]*'|\"[^\"\n]*\"|[^\s'\"()]+)[ \t]*$", re.M)
# A default offered by read: read -p "Password [PW]: " VAR, read -i PW ... VAR.
_READ_DEFAULT = re.compile(
    r"^(\s*read\b[^\n;|&]{0,300}?(?:-i[ \t]+(['\"]?)(?P<i>[^\s'\"$`]+)\2|-p[ \t]+\"[^\"\n]{0,200}?(?:pass|secret|token|key)[^\"\n]{0,200}?\[(?P<p>[^\]\s$`]+)\][^\"\n]*\")[^\n;|&]*?[ \t](\w+))[ \t]*$",
    re.I | re.M,
)
# Base64 of a credential-bearing document: a docker config (`{"auths": ...`), a PEM private key
# (kubeconfig's client-key-data), a service-account JSON. Decoded to check: only those are replaced.
_BASE64_DOCUMENT = re.compile(
    r"(?<![A-Za-z0-9+/_\-.])((?:eyJ|ewo|ew0|LS0tLS1)[A-Za-z0-9+/]{36,}={0,2})(?![A-Za-z0-9+/=_\-.])"
)
_CREDENTIAL_CONTENT = re.compile(
    r"PRIVATE KEY|\"auths\"\s*:\s*\{|\"auth\"\s*:\s*\"[A-Za-z0-9+/=]{8,}|\"private_key\"|\"password\"\s*:\s*\"[^\"]|\"client_secret\""
)
# expect's answer to a password prompt: expect "*assword*" ... send "PW\r".
_EXPECT_SEND = re.compile(
    # Never past another `send`: a prompt answered with "$PASS" must not make the next command the password.
    r"((?:assword|assphrase)(?:(?!\b(?:send|expect)\b)[^\n]){0,80}(?:\n(?:(?!\b(?:send|expect)\b)[^\n]){0,200}){0,2}?"
    r"\bsend(?:[ \t]+--)?[ \t]+\\?\")"
    r"([^\"\\$\[\n]+)(\\r|\\n)"
)
# A default in a parameter expansion: ${DB_PASSWORD:-PW}, ${TOKEN:=PW}.
_EXPANSION_DEFAULT = re.compile(r"\$\{(\w+)(:?[-=])('[^'\n}]*'|\"[^\"\n}$`]*\"|[^\s'\"`$}]+)\}")
# An array whose name holds secrets: CREDS=("admin" "PW"), declare -A secrets=([db]=PW).
_SECRET_ARRAY = re.compile(r"(?<![\w$.{-])(\w+)=\(([^()\n]*)\)")
# An option named for a secret whose value is on the line a backslash continues onto:
# `--master-user-password \` then `  PW` (a random-looking value only, like the space form).
_FLAG_CONTINUED = re.compile(
    r"((?<![\w-])--?(?:[A-Za-z0-9]+[-_])*(?:password|passwd|passphrase|secret|token|api[-_]?key|secret[-_]?key)"
    r"[ \t]*\\\n[ \t]*)(['\"]?)([^\s'\"`$\\;|&<>(){}\]]+)",
    re.I,
)
# What `_heredoc` looks for on a here-document's line, as a cheap test of the whole text first.
_HEREDOC_HINT = re.compile(
    r"pass|ftp|mysql_secure|pdbedit|adduser|sudo|kinit|realm|secret|credential|auth|userlist|configure", re.I
)
# Tools a here-document answers the password prompts of (`mysql_secure_installation <<EOF`, then
# y, PW, PW, y ...).
_ANSWERING_TOOLS = frozenset(
    {
        "mysql_secure_installation",
        "passwd",
        "vncpasswd",
        "smbpasswd",
        "pdbedit",
        "adduser",
        "kinit",
        "htpasswd",
        "realm",
    }
)
# What ends the command before `<<` (the here-document feeds the last one).
_COMMAND_SPLIT = re.compile(r"[|;&(]|\$\(|\b(?:do|then|else)\b")
_ANSWER_LINE = re.compile(r"^([ \t]*)(\S+)([ \t]*)$", re.M)
_FTP_USER_LINE = re.compile(
    r"^([ \t]*(?:quote[ \t]+)?(?:user[ \t]+\S+|pass)[ \t]+)(\S+)([ \t]*)$", re.M | re.I
)
# The `user:PW` lines of a here-document into chpasswd (see `_heredoc`).
_USER_COLON = re.compile(r"^([ \t]*[\w.\-]+:)([^\s:'\"$`]+)([ \t]*)$", re.M)
# printf filling a template: printf 'aws_secret_access_key=%s\n' PW > ~/.aws/credentials. Each `%s`
# takes the next argument; one after a secret's name (`NAME=%s`, `NAME: %s`) is the secret.
_PRINTF_TEMPLATE = re.compile(
    r"\bprintf[ \t]+(?:--[ \t]+)?('[^'\n]{1,500}'|\"[^\"\n]{1,500}\")((?:[ \t]+(?:'[^'\n]*'|\"[^\"\n]*\"|[^\s'\"|;&<>()]+)){1,20})"
)
_PRINTF_SLOT = re.compile(r"%[-#0 +]*\d*(?:\.\d+)?[sdbqiouxXfFeEgGc%]")
_PRINTF_NAMED_SLOT = re.compile(r"(\w+)[ \t]*[=:][ \t]*['\"]?$")
_PRINTF_ARG = re.compile(r"'[^'\n]*'|\"[^\"\n]*\"|[^\s'\"|;&<>()]+")
# The same over several lines: PASSWORDS=(\n  'PW'\n  "$FALLBACK"\n) (not a line rule).
_ARRAY_OPENS_LINE = re.compile(r"=\([ \t]*\n")
_SECRET_ARRAY_LINES = re.compile(r"(?<![\w$.{-])(\w+)=\(([ \t]*\n[^()]{0,4000}?)\)")
# An assignment continued onto the next line: `export AWS_SECRET_ACCESS_KEY=\` then the value
# (bash removes the backslash-newline, so the value is the next line's first word).
_ASSIGN_CONTINUED = re.compile(r"(?<![\w$.{-])((\w+)=\\\n)('[^'\n]*'|\"[^\"\n]*\"|[^\s'\"`;|&<>()]+)")
_ARRAY_ELEMENT = re.compile(r"(\[[^\]\s]*\]=)?('[^'\n]*'|\"[^\"\n]*\"|[^\s'\"]+)")
# A literal piped into a command that reads a password on stdin.
_STDIN_PASSWORD = re.compile(
    r"(\b(?:echo|printf)(?:[ \t]+-[neE]+)*[ \t]+(?:['\"]%s(?:\\n)?['\"][ \t]+)?)"
    r"('[^'\n]+'|\"[^\"\n$`]+\"|[^\s'\"$`|;&][^\s'\"`|;&]*)"
    r"([ \t]*\|[ \t]*(?:[^|\n;&]*?(?:--password-stdin|--passphrase-fd|--key-file[ =]-|--passwd-on-stdin"
    r"|-pass(?:in)?[ \t]+stdin\b|cryptsetup\b[^|\n;&]*[ \t]-(?![^\s;&|)]))"
    r"|(?:sudo[ \t]+)?(?:(?:vnc|smb)?passwd|kinit|realm[ \t]+join)\b|sudo[ \t]+(?:-\w*S|--stdin)\b))"
)
# A random-looking literal piped into a command that stores a secret read on stdin: az devops login,
# gcloud secrets create --data-file=-, docker secret create NAME -, keystore add --stdin.
_STDIN_SECRET = re.compile(
    r"(\b(?:echo|printf)(?:[ \t]+-[neE]+)*[ \t]+(?:['\"]%s(?:\\n)?['\"][ \t]+)?)"
    r"('[^'\n]+'|\"[^\"\n$`]+\"|[^\s'\"$`|;&][^\s'\"`|;&]*)"
    r"([ \t]*\|[ \t]*[^|\n;&]*?(?:devops[ \t]+login|--data-file[ =]-(?!\S)|secret[ \t]+create[ \t]+\S+[ \t]+-(?!\S)"
    r"|keystore[ \t]+add\b[^|\n;&]*(?:--stdin|[ \t]-x\b)|openssl[ \t]+passwd\b[^|\n;&]*-stdin|--stdin-password))"
)
# sed's s/PATTERN/REPLACEMENT/ that puts a password in: s/__DB_PASSWORD__/PW/, s/^pass=.*/pass=PW/.
# Bounded parts: unbounded lazy ones made a 20 KB line cost seconds (quadratic backtracking).
_SED_S = re.compile(r"\bs([/|#,@])((?:[^\\\n]|\\.){0,200}?)\1((?:[^\\\n]|\\.){0,200}?)\1")
_SED_SETTING = re.compile(r"[:=]")  # `s/^password=.*/password=/` clears a setting
# A template's placeholder for a secret: __DB_PASSWORD__, @DB_PASS@, {{password}}, %TOKEN%
# (not `s/passwd/group/`, which edits text that mentions one).
_SED_PLACEHOLDER = re.compile(
    r"[_@%{<#\[\\$]{1,4}\w{0,40}?(?i:pass|secret|token|api_?key|auth_?key)\w{0,40}[_@%}>#\]\\]{1,4}"
    # wp-config-sample.php's `password_here`, a README's `your_api_key`
    r"|(?i:\w{0,40}(?:password|passwd|secret|token|api_?key)\w{0,20}_here|(?:your|my)_?\w{0,30}(?:password|passwd|secret|token|api_?key|license_?key)\w{0,20})"
    # the word a template leaves for any secret: s/CHANGEME/PW/
    r"|(?i:change_?me|change_?this|replace_?me)"  # any secret's: a password-like value only (_sed)
)
# A replacement that keeps a group of the pattern (a setting's name: `\1`) and puts a literal after
# it (sed's back-references are one digit, so `\10abc` is group 1 then `0abc`).
_SED_KEPT_NAME = re.compile(r"(\\1)([ \t=:]*['\"]?)([^\s'\"\\&]+)(['\"]?)")
# A pattern whose group 1 is a setting's name and separator, the value after it matched to the end:
# `^\(password\s*=\s*\).*`, `^\(requirepass\).*`, `\(token: *\)[^ ]*` (not `\(passwd:.*\)` or
# `\(password\)_old`, which keep text around a name rather than replace its value).
_SED_KEPT_SETTING = re.compile(
    r"\^?\\\((?:\\s\*|[ \t])*([A-Za-z_][\w.\-]*)((?:\\s[*+]?|\\\+|\[\[:space:\]\][*+]?|[ \t=:*+])*)\\\)"
    r"(?:\.\*|\[\^[^\]]{1,20}\][*+]?|\\S\*)\$?"
)
# Settings written `NAME VALUE` whose names `is_secret_name` does not know: redis's.
_SPACE_SETTINGS = frozenset({"requirepass", "masterauth"})
# Codecov's bash uploader run from curl: bash <(curl -s https://codecov.io/bash) -t TOKEN, or
# curl -s https://codecov.io/bash | bash -s -- -t TOKEN.
_CODECOV_BASH = re.compile(
    r"(codecov\.io/bash\)?(?:[ \t]*\|[ \t]*bash\b)?[^\n|;&]{0,200}?[ \t](?:-t|--token)(?:[ \t]+|=)['\"]?)"
    r"([^\s'\"`$\\;|&<>(){}]+)"
)
_SED_SPACE_VALUE = re.compile(r"^(.*?\b(\w+)[ \t]+['\"]?)([^'\"\s]+?)(['\"]?)$")
_SED_NAME_VALUE = re.compile(r"^(.*?\b(\w+)[ \t]*[:=][ \t]*['\"]?)([^'\"\s]+?)(['\"]?)$")
# helm's --set a.b.password=PW,c=d: the last part of each dotted key names the value.
_HELM_SET = re.compile(r"(--set(?:-string)?(?:=|[ \t]+)['\"]?)([^\s'\"]{1,2000})")
_HELM_PAIR = re.compile(r"(?<![\w.\-\[\]])([\w.\-\[\]]{1,200}=)([^,]*)")
# A .pgpass line, host:port:database:user:password.
_PGPASS = re.compile(
    r"((?<![\w.:*-])[\w.\-*]{1,253}:(?:\d{1,5}|\*):[\w.\-*]{1,128}:[\w.\-*@]{1,128}:)([^\s'\"$`:]{1,256})"
)
# base64 of `user:password` where credentials go (a line naming auth or Basic): `AUTH="dXNlcjpwYXNz"`,
# docker's config.json `"auth": "..."` (the Authorization header itself is the auth-header rule's).
_BASE64_WORD = re.compile(r"(?<![A-Za-z0-9+/=_\-.])([A-Za-z0-9+/]{12,}={0,2})(?![A-Za-z0-9+/=_\-.])")
_USER_PASSWORD = re.compile(r"[\w.@+\-]{1,64}:[^\s:]{3,128}")

_EMAIL = re.compile(
    r"(?<![\w.%+\-$@/])([A-Za-z0-9][A-Za-z0-9._%+\-]*)@([A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9\-]+)+)\b"
)
# Final labels that are file extensions or systemd unit types, not TLDs (`getty@tty1.service`,
# `icon@2x.png` are not addresses), or reserved and placeholder TLDs (`root@host.localdomain`).
_NOT_TLD = frozenset(
    "service socket target timer mount automount path slice scope device swap png jpg jpeg gif svg webp ico sh "
    "bash py pl rb js ts md txt conf cfg ini json yaml yml xml html css log tar gz xz bz2 zip deb rpm so lua php "
    "java jar go rs in out d local lan internal invalid test localhost localdomain example tld domain".split()
)
# Addresses at these names are placeholders, not a person's: `you@yourdomain.com`, `root@localhost.localdomain`.
_GENERIC_NAMES = frozenset(
    "example localhost localdomain domain yourdomain your-domain mydomain my-domain yourcompany your-company "
    "mycompany my-company hostname yourhost myhost foo bar foobar".split()
)
# OpenSSH/libssh name algorithms `umac-64@openssh.com`, which look like addresses but are identifiers.
_NOT_ADDRESS_DOMAINS = ("openssh.com", "libssh.org")
_URL_AUTHORITY_BEFORE = re.compile(r"://[^\s/@'\"`]*$")


def _email(m: re.Match[str]) -> str | None:
    local, domain = m.group(1), m.group(2).lower()
    labels = domain.split(".")
    tld = labels[-1]
    if not tld.isalpha() or len(tld) < 2 or tld in _NOT_TLD or domain.endswith(_NOT_ADDRESS_DOMAINS):
        return None
    # The name under the public suffix (`yourdomain` in mail.yourdomain.co.uk) says whether it is generic.
    if _GENERIC_NAMES.intersection(labels[-3:-1] if len(tld) == 2 and len(labels) > 2 else labels[-2:-1]):
        return None
    after = m.string[m.end() : m.end() + 1]
    # `git@github.com:owner/repo` and `user@host:path` are ssh remotes, not addresses,
    # and `https://user:pw@host/` is a URL (its password was handled before).
    if after == ":" or local in ("git", "hg"):
        return None
    if _URL_AUTHORITY_BEFORE.search(m.string, max(0, m.start() - 256), m.start()):
        return None
    # `ssh deploy@web1.example.net`, `ssh-copy-id -i k.pub ubuntu@host.fqdn`: a login, not an address
    # (unless it reads like a person's: `jane.doe@`, a webmail domain).
    line_start = m.string.rfind("\n", 0, m.start()) + 1
    if (
        "." not in local
        and not domain.endswith(_WEBMAIL)
        and _after_login_command(m.string[line_start : m.start()])
    ):
        return None
    return EMAIL_PLACEHOLDER


_LOGIN_COMMANDS = frozenset({"ssh", "autossh", "mosh", "ssh-copy-id", "sftp", "telnet"})
_WEBMAIL = (
    "gmail.com",
    "googlemail.com",
    "yahoo.com",
    "hotmail.com",
    "outlook.com",
    "live.com",
    "icloud.com",
    "proton.me",
    "protonmail.com",
    "aol.com",
    "gmx.de",
    "gmx.net",
    "mail.ru",
    "yandex.ru",
    "qq.com",
)


def _after_login_command(before: str) -> bool:
    """Whether `before` (the line up to a `user@host`) ends with a remote login's command and its
    options: `ssh -p 2222 -i key `, `sudo ssh-copy-id -i k.pub `. Word by word from the end (a
    regex over options and their values backtracked exponentially)."""
    if before[-1:] not in (" ", "\t"):
        return False
    words = before.split()[-40:]
    i = len(words) - 1
    while i >= 0:
        word = words[i]
        if word.rsplit("/", 1)[-1] in _LOGIN_COMMANDS:
            return True
        if word.startswith("-") or "=" in word:
            i -= 1
        elif i > 0 and words[i - 1].startswith("-") and "=" not in words[i - 1]:
            i -= 2  # an option's value: `-i key`, `-p 2222`
        else:
            return False
    return False


def _url_credentials(m: re.Match[str]) -> str | None:
    """The password of `scheme://user:PW@`, and the user too when it is the token: GitHub's
    `https://TOKEN:x-oauth-basic@github.com` (the password is a fixed word there)."""
    user, password = m.group(2), m.group(3)
    if password.lower() in ("x-oauth-basic", "x-oauth-token"):
        if looks_random(user) and len(user) >= 20:
            return m.group(1) + placeholder("token") + ":" + password + "@"
        return None
    return _keep_value(3, "password")(m)


def _keep_value(group: int, kind: str, min_len: int = 1) -> Callable[[re.Match[str]], str | None]:
    """A replacement that swaps group `group` (a value, quotes kept) for a placeholder when literal."""

    def repl(m: re.Match[str]) -> str | None:
        value = m.group(group)
        if value is None or not is_literal_value(value, min_len):
            return None
        start, end = m.start(group) - m.start(), m.end(group) - m.start()
        whole = m.group(0)
        return whole[:start] + replace_value(value, kind) + whole[end:]

    return repl


def _assign(m: re.Match[str]) -> str | None:
    if not holds_secret(m.group(2), m.group(4)):
        return None
    line_start = m.string.rfind("\n", 0, m.start()) + 1
    before = m.string[line_start : m.start()]
    if before.rstrip().endswith("alias"):  # `alias pass=passgen` names a command
        return None
    if _SED_OPENER.search(before):  # `s/^password=.*/...`: a sed pattern (the replacement is _sed's)
        return None
    rest_of_line = m.string[m.end() :].split("\n", 1)[0]
    # `token=substr(...)` and `pw=os.environ[...]` are calls; `A = b ? c : d` is awk, not a setting.
    if rest_of_line[:1] in ("(", "[") or (m.group(3) != "=" and rest_of_line.strip()):
        return None
    return f"{m.group(1) or ''}{m.group(2)}{m.group(3)}{replace_value(m.group(4), 'secret')}"


def _random_value(group: int, kind: str, strong: bool = False) -> Callable[[re.Match[str]], str | None]:
    """`_keep_value` for a value that must also look random (letters and digits, 8+), or with
    `strong` look like a generated key rather than a word and a number (`_strong`)."""
    keep = _keep_value(group, kind)

    def repl(m: re.Match[str]) -> str | None:
        value = m.group(group)
        if value is None or not looks_random(value) or (strong and not _strong(value)):
            return None
        return keep(m)

    return repl


_SNAKE_WORDS = re.compile(r"[a-z]{3,}_[a-z]{3,}(?![a-z])")  # password_hash2024, not rubygems_e764b69c


def _strong(value: str) -> bool:
    """Upper and lower case and digits, or 16+ characters with 3+ digits that are not snake_case
    words: a generated key (`Kq7vT2mX9pLw`, 40 hex digits), not a word and a number (`expires2024`,
    `localhost2`, `password_hash2024`), which messages and settings are."""
    inner = value.strip("'\"")
    if (
        any(c.isupper() for c in inner)
        and any(c.islower() for c in inner)
        and any(c.isdigit() for c in inner)
    ):
        return True
    return len(inner) >= 16 and sum(c.isdigit() for c in inner) >= 3 and not _SNAKE_WORDS.search(inner)


# Options named for a secret that take none: switches (`--ask-vault-pass`, `--no-password`) and
# pagination or idempotency tokens (`--starting-token`, `--next-token`, `--client-token UUID`).
_NOT_SECRET_OPTION = re.compile(
    r"--?(?:(?:no|ask|prompt|stdin|from|with|use|show|print|reset|change|gen|generate|random)[-_]"
    r"|(?:delete|export|list|import|edit)[-_]secret[-_]keys?\b"  # gpg's: a key id follows
    r"|(?:starting|next|page|client|skip|continuation|pagination|idempotency|sync|resume|cancel)[-_]token\b)",
    re.I,
)


def _jinja_literal(m: re.Match[str]) -> str | None:
    return _keep_value(3, "password")(m) if is_secret_name(m.group(2)) else None  # not passthrough=


def _url_token_user(m: re.Match[str]) -> str | None:
    if _HYPHENATED_NAME.search(m.group(2)) or sum(c.isdigit() for c in m.group(2)) < 3:
        return None
    return _random_value(2, "token")(m)


def _flag_eq(m: re.Match[str]) -> str | None:
    if _NOT_SECRET_OPTION.match(m.group(1)):
        return None
    # gcloud's --secret=NAME names a Secret Manager secret (`gcloud run deploy --secret=db-password`).
    if m.group(1).lower().startswith("--secret=") and "gcloud" in m.string[: m.start()]:
        return None
    return _keep_value(3, "password")(m)


def _flag_space(m: re.Match[str]) -> str | None:
    # pulumi's `config set --secret NAME PW`: --secret is a switch, NAME the setting (the tools table
    # takes PW).
    if m.group(1).startswith("--secret") and re.search(r"\bpulumi\b", m.string[: m.start()]):
        return None
    return _keep_value(3, "password")(m)


def _flag_space_any(m: re.Match[str]) -> str | None:
    if _NOT_SECRET_OPTION.match(m.group(1)):
        return None
    return _option_secret(m.group(1), m.group(2), m.group(3))


def _option_secret(before: str, quote: str, value: str) -> str | None:
    """An option named for a secret and its value, the secret part replaced when it looks like
    one (random letters and digits, or a typed password with punctuation): also after openssl's
    and apksigner's `pass:` and in `user:PW` credentials (`--src-creds ci:PW`)."""
    head = ""
    if value.lower().startswith("pass:"):
        head, value = value[:5], value[5:]
    elif ":" in value and re.search(r"creds?|credentials|auth", before, re.I):
        user, _, secret = value.partition(":")
        head, value = user + ":", secret
    if not is_literal_value(value) or not (looks_random(value) or _punctuated_password(value)):
        return None
    return before + quote + head + placeholder("password")


_FILE_NAME = re.compile(r".*\.(?:[a-z0-9]{1,4}|json|yaml|conf|toml)", re.I)


def _punctuated_password(value: str) -> bool:
    """A generated password with punctuation (`rj!j9cUQdk5Vxt`, `D8Odl.udIlpuYw`): a typed password
    (`_typed_password`) with a symbol other than `._-/` or both cases, not a file name (`backup.7z`)."""
    inner = value.strip("'\"")
    if not _typed_password(inner) or "/" in inner or _FILE_NAME.fullmatch(inner):
        return False
    symbols = any(not c.isalnum() and c not in "._-" for c in inner)
    cases = any(c.isupper() for c in inner) and any(c.islower() for c in inner)
    return symbols or cases


# Option names a secret word ends without a separator (`--adminpass`, `--dbpass`, `--rootpw`),
# after a dot (`--server.password`), and keys that are secrets by their kind (`-encrypt` for a gossip
# key, `--certificate-key`), with user:PW credentials (`--src-creds`): a password-like value only.
_FLAG_GLUED = re.compile(
    r"((?<![\w-])--?(?:[a-z0-9]+[-_.])*(?:[a-z]{2,12}(?:pass|passwd|password|pw|pwd|secret|token)"
    r"|encrypt|(?:certificate|encryption|master|license)[-_]key|(?:[a-z]+[-_])?creds?)(?:[ \t]+|=))"
    r"(['\"]?)(" + _LITERAL + r")",
    re.I,
)


# Words a secret word ends that are no secret: a bypass, a band-pass filter, a page's token.
_NOT_A_GLUED_SECRET = re.compile(
    r"(?:by|com|sur|tres|im|over|under|walk|cross|free|no|multi|band|high|low|all|single|two|one)pass$"
    r"|(?:next|page|sync|continuation|id|csrf|xsrf|cancel|resume|start|starting)token$"
)


def _flag_glued(m: re.Match[str]) -> str | None:
    name = m.group(1).lstrip("-").rstrip(" \t=").lower()
    if _NOT_A_GLUED_SECRET.search(name) or _NOT_SECRET_OPTION.match(m.group(1)):
        return None
    if name == "encrypt" and "consul" not in m.string:  # openssl's and gpg's -encrypt is a switch
        return None
    return _option_secret(m.group(1), m.group(2), m.group(3))


def _dotted_key(m: re.Match[str]) -> str | None:
    value = m.group(3)
    if not holds_secret(m.group(2), value) or "*" in value:  # `password=******`: a mask, `[^ ]*` a regex
        return None
    rest_of_line = m.string[m.end() :].split("\n", 1)[0]
    # A call (`config.password=getpass()`), or code: `user.password = user.password_confirmation = x`.
    if rest_of_line[:1] in ("(", "[") or _ATTRIBUTE.fullmatch(value):
        return None
    if re.search(r"[ \t]=|=[ \t]", m.group(1)):  # code: `a.password = b if c else d`, `openai.api_key = key`
        if rest_of_line.strip() or not (value[:1] in "'\"" or looks_random(value)):
            return None
    return m.group(1) + replace_value(m.group(3), "secret")


_ATTRIBUTE = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")


def _colon_key(m: re.Match[str]) -> str | None:
    name = m.group(1).split(":", 1)[0].strip().rsplit(".", 1)[-1]
    value = m.group(2) + m.group(3) + m.group(2)
    if re.fullmatch(r"(?:[A-Z][A-Za-z0-9]*-)+[A-Z][A-Za-z0-9]*", name):  # Sec-WebSocket-Key: a header
        return None
    # A message (`echo "Password: changed2"`) has a word and a number; a key is more of a mix.
    # A YAML value may hold punctuation unquoted (`POSTGRES_PASSWORD: q3Aq!lT2n#z4`).
    if not (
        holds_secret(name, value) and (looks_random(value) and _strong(value) or _punctuated_password(value))
    ):
        return None
    return m.group(1) + replace_value(value, "secret")


def _printf_template(m: re.Match[str]) -> str | None:
    fmt = m.group(1)[1:-1]
    names: list[str | None] = []  # the secret-ish name before each argument-taking slot
    for slot in _PRINTF_SLOT.finditer(fmt):
        if slot.group(0) == "%%":
            continue
        named = _PRINTF_NAMED_SLOT.search(fmt[max(0, slot.start() - 80) : slot.start()])
        names.append(named.group(1) if named else None)
    if not any(names):
        return None
    args = list(_PRINTF_ARG.finditer(m.group(2)))
    out, last = [], 0
    for name, arg in zip(names, args, strict=False):  # a format reused for more arguments: the first round
        if name and holds_secret(name, arg.group(0)):
            out += [m.group(2)[last : arg.start()], replace_value(arg.group(0), "secret")]
            last = arg.end()
    if not out:
        return None
    return m.group(0)[: m.start(2) - m.start()] + "".join(out) + m.group(2)[last:]


def _heredoc(m: re.Match[str]) -> str | None:
    """A here-document's secrets, by the command it feeds or the file it writes (`_HEREDOC`):
    chpasswd's `user:PW` lines, the answers to a tool's password prompts (a password-like line
    alone), ftp's `user NAME PW` and `quote PASS PW` lines, or the random-looking fields of a
    credentials file's lines."""
    before = m.string[m.string.rfind("\n", 0, m.start()) + 1 : m.start()]
    # The command whose standard input the here-document is: the last one before `<<` (not
    # `passwd` in `while read u; do passwd -l "$u"; done <<EOF`, which feeds the loop).
    words = _COMMAND_SPLIT.split(before)[-1].split()
    # `sudo -S cmd` reads the password from its standard input: the here-document answers sudo.
    stdin_sudo = (
        len(words) > 1 and words[0] == "sudo" and any(re.fullmatch(r"-[A-Za-z]*S[A-Za-z]*", w) for w in words)
    )
    while words and (words[0] in ("sudo", "doas", "env", "command", "exec") or words[0].startswith("-")):
        words = words[1:]
    tool = "passwd" if stdin_sudo else words[0].rsplit("/", 1)[-1] if words else ""
    if tool == "chpasswd":
        body = _USER_COLON.sub(lambda e: _password_at(e, is_literal_value), m.group(3))
    elif tool in ("ftp", "lftp", "sftp"):
        body = _FTP_USER_LINE.sub(lambda e: _password_at(e, is_literal_value), m.group(3))
    elif tool in _ANSWERING_TOOLS:
        body = _ANSWER_LINE.sub(lambda e: _password_at(e, _typed_password), m.group(3))
    elif tool in _CONFIGURE_TOOLS and words[1:2] == ["configure"]:
        # `aws configure <<EOF` answers key id, secret key, region, format; `databricks configure
        # --token` the host and a token: the generated ones go, the region and format stay.
        body = _ANSWER_LINE.sub(lambda e: _password_at(e, _generated_answer), m.group(3))
    elif any(_CREDENTIALS_FILE.search(t.group(1)) for t in _WRITE_TARGET.finditer(before + " " + m.group(2))):
        body = re.sub(r"[^\n]+", _credentials_line, m.group(3))
    else:
        return None
    if body == m.group(3):
        return None
    start, end = m.start(3) - m.start(), m.end(3) - m.start()
    return m.group(0)[:start] + body + m.group(0)[end:]


_CONFIGURE_TOOLS = frozenset({"aws", "databricks"})
"""CLIs whose `configure` a here-document answers with keys (`aws configure <<EOF`)."""


def _generated_answer(value: str) -> bool:
    """An answer line that is a generated key or token (`_strong`), not a region, a format or a URL."""
    return is_literal_value(value) and _strong(value)


def _typed_password(value: str) -> bool:
    """A line typed at a password prompt: 8+ characters mixing letters and digits, punctuation
    allowed (`S3cure!Pass#42`), not an expansion, a path, an option or a URL."""
    return (
        len(value) >= 8
        and is_literal_value(value)
        and any(c.isdigit() for c in value)
        and any(c.isalpha() for c in value)
        and not value.startswith(("/", "-", "http", "<"))
    )


def _password_at(e: re.Match[str], ok: Callable[[str], bool]) -> str:
    """Groups (before, value, after) with the value replaced when `ok` says it is a password."""
    return e.group(1) + placeholder("password") + e.group(3) if ok(e.group(2)) else e.group(0)


def _credentials_line(e: re.Match[str]) -> str:
    # Settings (`NAME=VALUE`, YAML and JSON `key: value`) are the assignment rules' to read.
    if "=" in e.group(0) or ": " in e.group(0):
        return e.group(0)
    return _secret_fields(e.group(0))


def _named_value(m: re.Match[str]) -> str | None:
    """Groups (prefix with the name, name, value): the value replaced when the name holds a secret."""
    if not holds_secret(m.group(2), m.group(3)):
        return None
    return m.group(1) + replace_value(m.group(3), "secret")


def _npm_auth(m: re.Match[str]) -> str | None:
    return m.group(1) + placeholder("basic-credentials") if _is_basic_credentials(m.group(2)) else None


def _xml_element(m: re.Match[str]) -> str | None:
    if not holds_secret(m.group(2).rsplit(":", 1)[-1], m.group(3)):
        return None
    return m.group(1) + placeholder("secret") + m.group(4)


def _xml_key_value(m: re.Match[str]) -> str | None:
    if not holds_secret(m.group(2), m.group(3)):
        return None
    return m.group(1) + placeholder("secret") + '"'


def _base64_document(m: re.Match[str]) -> str | None:
    word = m.group(1)
    try:
        decoded = base64.b64decode(word + "=" * (-len(word) % 4)).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return None
    return placeholder("base64-credentials") if _CREDENTIAL_CONTENT.search(decoded) else None


def _expect_send(m: re.Match[str]) -> str | None:
    value = m.group(2)
    if not is_literal_value(value):
        return None
    return m.group(1) + placeholder("password") + m.group(3)


def _debconf(m: re.Match[str]) -> str | None:
    if not _DEBCONF_PASSWORD.search(m.group(2)):
        return None
    if re.search(r"pass|hash|crypt", m.group(3), re.I):  # `password passwordhash`: a template's blank
        return None
    return _keep_value(3, "password")(m)


def _echo_twice(m: re.Match[str]) -> str | None:
    value = m.group(3)
    if not (is_literal_value(value) and looks_random(value) and _strong(value)):
        return None
    q = m.group(2)
    return m.group(1) + q + placeholder("password") + q + m.group(4) + q + placeholder("password") + q


def _secret_function(m: re.Match[str]) -> str | None:
    name, value = m.group(2) or m.group(3), m.group(6)
    # holds_secret: its exceptions too (`tini_key() { echo <GPG fingerprint>; }` names no secret).
    if (
        not (holds_secret(name, value) and looks_random(value))
        or ":" in value
        or ("/" in value and not _strong(value))
    ):
        return None
    return m.group(1) + m.group(5) + placeholder("secret") + m.group(5)


def _read_default(m: re.Match[str]) -> str | None:
    group = "i" if m.group("i") else "p"
    value = m.group(group)
    if not (is_secret_name(m.group(5)) and is_literal_value(value) and looks_random(value)):
        return None
    start, end = m.start(group) - m.start(), m.end(group) - m.start()
    return m.group(0)[:start] + placeholder("secret") + m.group(0)[end:]


def _secret_file_write(m: re.Match[str]) -> str | None:
    value = m.group(2)
    # `NAME=VALUE` is a setting's line (the other rules' to judge); base64 padding is not one.
    if not _SECRET_FILE.search(m.group(4)) or re.match(r"['\"]?\w+=(?!=*['\"]?$)", value):
        return None
    if public_key_file(">" + m.group(4).strip("'\"")):  # a WireGuard or SSH public key's file
        return None
    if is_literal_value(value) and looks_random(value):
        return m.group(1) + replace_value(value, "secret") + m.group(3) + m.group(4)
    fields = _secret_fields(value)
    return None if fields == value else m.group(1) + fields + m.group(3) + m.group(4)


def _secret_fields(line: str) -> str:
    """A credentials line with its random-looking fields replaced (names, `*`, paths and
    `name=value` options are not secrets: `pam_pwhistory.so remember=4`, `/home/u2` in /etc/passwd)."""

    def field(f: re.Match[str]) -> str:
        value = f.group(0)
        secret = (
            looks_random(value)
            and "=" not in value.rstrip("=")
            and not value.startswith(("/", PLACEHOLDER_PREFIX))
        )
        return placeholder("secret") if secret else value

    return _FILE_FIELD.sub(field, line)


def _prose_password(m: re.Match[str]) -> str | None:
    value = m.group(2)
    if not looks_random(value) or _HYPHENATED_WORDS.fullmatch(value):
        return None
    return m.group(1) + placeholder("password")


def _expansion_default(m: re.Match[str]) -> str | None:
    if not holds_secret(m.group(1), m.group(3)):
        return None
    return f"${{{m.group(1)}{m.group(2)}{replace_value(m.group(3), 'secret')}}}"


def _secret_array(m: re.Match[str]) -> str | None:
    if not is_secret_name(m.group(1)):
        return None

    def element(e: re.Match[str]) -> str:
        # Only random-looking elements: arrays named like secrets hold menus and tables too
        # (`cmd_change_password=("pw;change-password" "command_pass.sh" "Change ...")`).
        value = e.group(2)
        secret = is_literal_value(value) and looks_random(value)
        return (e.group(1) or "") + (replace_value(value, "secret") if secret else value)

    return f"{m.group(1)}=({_ARRAY_ELEMENT.sub(element, m.group(2))})"


def _secret_setting(name: str, value: str) -> bool:
    return holds_secret(name, value) or (name.lower() in _SPACE_SETTINGS and is_literal_value(value))


def _sed(m: re.Match[str]) -> str | None:
    """The replacement of a sed `s` command when it is a password: after a secret's name
    (`s/^pass=.*/pass=PW/`), or whole when the pattern names a secret (`s/__DB_PASSWORD__/PW/`)."""
    delim, pattern, repl = m.group(1), m.group(2), m.group(3)
    kept, setting = _SED_KEPT_NAME.fullmatch(repl), _SED_KEPT_SETTING.fullmatch(pattern)
    if kept and setting and _secret_setting(setting.group(1), kept.group(3)) and looks_random(kept.group(3)):
        # `s/^\(password\s*=\s*\).*/\1PW/`: the group kept the setting's name, PW is its value.
        return f"s{delim}{pattern}{delim}{kept.group(1)}{kept.group(2)}{placeholder('password')}{kept.group(4)}{delim}"
    if "\\" in repl or "&" in repl:  # back-references build the text from the input
        return None
    spaced = _SED_SPACE_VALUE.match(repl)  # redis.conf's `requirepass PW`
    if spaced and spaced.group(2).lower() in _SPACE_SETTINGS and looks_random(spaced.group(3)):
        return f"s{delim}{pattern}{delim}{spaced.group(1)}{placeholder('password')}{spaced.group(4)}{delim}"
    named = _SED_NAME_VALUE.match(repl)
    code = named is not None and any(c in named.group(3) for c in "()[]{}")  # get_random_secret_key()
    if named and not code and is_secret_name(named.group(2)) and is_literal_value(named.group(3)):
        new = named.group(1) + placeholder("password") + named.group(4)
    elif (
        _SED_PLACEHOLDER.fullmatch(pattern)
        and is_literal_value(repl)
        and not _SED_SETTING.search(repl)
        and not _DESCRIBED_PLACEHOLDER.search(pattern)
        # CHANGEME stands for namespaces, versions and ports too: a password-like value only
        and (not _GENERIC_TEMPLATE_WORD.search(pattern) or _strong(repl) or _punctuated_password(repl))
    ):
        new = placeholder("password")
    else:
        return None
    return f"s{delim}{pattern}{delim}{new}{delim}"


_GENERIC_TEMPLATE_WORD = re.compile(r"(?i)change_?me|change_?this|replace_?me")
# A placeholder for what names or holds a secret, not the secret: __TLS_SECRET_NAME__, @SECRET_STORE@.
_DESCRIBED_PLACEHOLDER = re.compile(
    r"(?i)(?:secret|token|pass\w*|key)_(?:name|store|file|path|dir|id|ref|arn|manager|engine)\b|_(?:name|store|file|path)_*$"
)


def _netrc_line(m: re.Match[str]) -> str | None:
    value = m.group(2)
    if not (is_literal_value(value) and looks_random(value)):
        return None
    return m.group(1) + replace_value(value, "password")


def _helm_set(m: re.Match[str]) -> str | None:
    def pair(e: re.Match[str]) -> str:
        key, value = e.group(1)[:-1], e.group(2)
        if holds_secret(key.rsplit(".", 1)[-1], value):
            return e.group(1) + placeholder("password")
        return e.group(0)

    return m.group(1) + _HELM_PAIR.sub(pair, m.group(2))


def _basic_credentials(m: re.Match[str]) -> str | None:
    return placeholder("basic-credentials") if _is_basic_credentials(m.group(1)) else None


def _is_basic_credentials(word: str) -> bool:
    """Whether `word` is base64 of `user:password`."""
    if len(word) % 4:
        return False
    try:
        decoded = base64.b64decode(word, validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return _USER_PASSWORD.fullmatch(decoded) is not None and "//" not in decoded


def _auth_header(m: re.Match[str]) -> str | None:
    group = 2 if m.group(1) is not None else 4
    if re.match(r"\w+=", m.group(group)):  # AWS4-HMAC-SHA256 Credential=..., Signature=...
        return None
    return _keep_value(group, "token", min_len=8)(m)


def _curl_lines(text: str, counts: Counter[str]) -> str:
    """`curl -u user:pass` (only in commands that run curl: `docker --user 1000:1000` is no password),
    on a command's whole logical line: `-u` is often on a line a backslash continues onto."""

    def line(m: re.Match[str]) -> str:
        if "curl" not in m.group(0):
            return m.group(0)
        return sub(_CURL_USER, m.group(0), counts, "curl-user", _keep_value(3, "password"))

    return re.sub(r"(?:[^\n\\]|\\[\s\S])+", line, text)  # a backslash takes the next character, newline too


_SECRET_HINTS = ("pass", "secret", "token", "key", "cred", "pw", "auth", "hmac", "psk", "cookie")
_SED_OPENER = re.compile(r"\bs[/|#,@]\^?(?:[#;][ \t]*)?$")  # also a commented-out setting: s|#NAME=...|
# (kind, line hints (ASCII lower-case), pattern, replacement) in the order they run.
_CONTEXT_RULES: tuple[
    tuple[str, tuple[str, ...], re.Pattern[str], Callable[[re.Match[str]], str | None]], ...
] = (
    ("url-password", ("://",), _URL_CREDENTIALS, _url_credentials),
    ("auth-header", ("authorization", "api-key", "apikey", "-token"), _AUTH_HEADER, _auth_header),
    ("auth-header", ("cookie",), _COOKIE, _random_value(2, "token", strong=True)),
    ("url-password", ("://",), _URL_TOKEN_USER, _url_token_user),
    ("cli-password", ("-auth",), _JENKINS_AUTH, _keep_value(2, "password")),
    ("basic-credentials", ("base64",), _BASE64_INPUT, _random_value(2, "password", strong=True)),
    ("cli-password", ("(echo", "( echo", "(printf"), _ECHO_TWICE, _echo_twice),
    ("secret-assignment", ("psk",), _PSK, _keep_value(2, "secret")),
    ("secret-assignment", ("{{",), _JINJA_LITERAL, _jinja_literal),
    ("secret-assignment", ("changeuserpassword",), _MONGO_CHANGE, _keep_value(2, "password")),
    ("secret-assignment", ("]=",), _ARRAY_LINE, _named_value),
    ("secret-assignment", ("read -",), _READ_DEFAULT, _read_default),
    ("secret-assignment", ("printf",), _PRINTF_TEMPLATE, _printf_template),
    (
        "auth-header",
        ("-token", "-key", "-secret", "-pass", "-auth", "-team"),
        _VENDOR_HEADER,
        _random_value(2, "token"),
    ),
    ("cli-password", _SECRET_HINTS, _FLAG_EQ, _flag_eq),
    ("cli-password", _SECRET_HINTS, _FLAG_SPACE, _flag_space),
    ("cli-password", _SECRET_HINTS, _FLAG_SPACE_ANY, _flag_space_any),
    ("cli-password", ("pass", "pw", "secret", "token", "encrypt", "-key", "cred"), _FLAG_GLUED, _flag_glued),
    ("cli-password", ("requirepass", "masterauth"), _REDIS_PASS, _random_value(2, "password")),
    ("cli-password", ("sudo",), _SUDO_HERESTRING, _keep_value(2, "password")),
    ("cli-password", ("chpasswd",), _CHPASSWD_HERESTRING, _keep_value(2, "password")),
    (
        "cli-password",
        ("login", "data-file", "secret", "keystore", "stdin"),
        _STDIN_SECRET,
        _random_value(2, "password"),
    ),
    ("cli-password", ("mysql", "mariadb"), _MYSQL_P, _keep_value(2, "password")),
    ("cli-password", ("sshpass",), _SSHPASS, _keep_value(2, "password")),
    ("cli-password", ("chpasswd",), _CHPASSWD, _keep_value(2, "password")),
    (
        "cli-password",
        ("stdin", "passwd", "sudo", "kinit", "realm", "cryptsetup"),
        _STDIN_PASSWORD,
        _keep_value(2, "password"),
    ),
    ("sql-password", ("identified", "password"), _SQL_PASSWORD, _keep_value(2, "password")),
    ("sql-password", ("identified",), _SQL_UNQUOTED, _random_value(2, "password", strong=True)),
    ("secret-assignment", ("</",), _XML_ELEMENT, _xml_element),
    ("secret-assignment", ("value=",), _XML_KEY_VALUE, _xml_key_value),
    ("secret-assignment", ("define",), _PHP_DEFINE, _named_value),
    ("cli-password", ("pass",), _DEBCONF, _debconf),
    ("url-password", ("pwd", "password"), _CONNECTION_PASSWORD, _keep_value(2, "password")),
    ("url-password", ("sig=",), _SAS_SIGNATURE, _keep_value(2, "token")),
    ("url-password", ("://",), _URL_QUERY, _url_query),
    (
        "secret-assignment",
        (
            "rootpw",
            "remotepass",
            "localpass",
            "community",
            "stats",
            "insecure-password",
            "cleartext-password",
            "password",
        ),
        _CONFIG_PASSWORD,
        _config_password,
    ),
    ("basic-credentials", ("bundle_",), _BUNDLE_HOST, _bundle_host),
    ("curl-user", ("curl",), _CURL_TOKEN_USER, _curl_token_user),
    (
        "prose-password",
        ("password", "passwd", "passphrase", "api key", "api-key", "api_key", "token", "secret", "login"),
        _SAID_SECRET,
        _said_secret,
    ),
    (
        "cli-password",
        (".login(", ".auth(", ".authenticate(", ".connect(", "_login("),
        _AUTH_CALL,
        _password_like(4),
    ),
    ("cli-password", ("conn",), _ORACLE_CONNECT, _password_like(2)),
    ("cli-password", ("using",), _DB2_USING, _password_like(3)),
    (
        "cli-password",
        ("impacket", "exec.py", "secretsdump", "getuserspns", "getnpusers", "smbclient.py"),
        _IMPACKET_TARGET,
        _password_like(2),
    ),
    ("basic-credentials", (".auth",), _AUTH_SETTING, _password_like(2)),
    ("secret-assignment", _SECRET_HINTS, _DSL_SETTING, _dsl_setting),
    ("secret-assignment", ("from-literal",), _FROM_LITERAL, _from_literal),
    ("secret-assignment", ("wireless.",), _UCI_WIFI_KEY, _password_like(3)),
    ("basic-credentials", ("npmauthident",), _NPM_AUTH_IDENT, _password_like(2)),
    ("secret-assignment", ("key",), _CEPH_KEY, _keep_value(2, "secret")),
    ("secret-assignment", ('"encrypt"',), _JSON_ENCRYPT, _keep_value(2, "secret")),
    ("cli-password", ("setuser",), _REDIS_ACL, _keep_value(2, "password")),
    ("basic-credentials", ("bundle",), _BUNDLE_CONFIG, _password_like(2)),
    ("secret-assignment", ("-oauth", "-token"), _COMPOSER_HOST_TOKEN, _keep_value(2, "token")),
    ("netrc-password", ("machine",), _NETRC, _keep_value(2, "password")),
    ("sed-password", ("s/", "s|", "s#", "s,", "s@"), _SED_S, _sed),
    ("cli-password", ("codecov.io/bash",), _CODECOV_BASH, _keep_value(2, "token")),
    ("secret-assignment", ("--set",), _HELM_SET, _helm_set),
    ("pgpass-password", ("pgpass", ":5432:"), _PGPASS, _keep_value(2, "password")),
    ("secret-assignment", _SECRET_HINTS, _EXPANSION_DEFAULT, _expansion_default),
    ("secret-assignment", _SECRET_HINTS, _SECRET_ARRAY, _secret_array),
    ("secret-assignment", _SECRET_HINTS, _ASSIGN, _assign),
    ("secret-assignment", _SECRET_HINTS, _DOTTED_KEY, _dotted_key),
    ("secret-assignment", ("env ",), _DOCKER_ENV, _named_value),
    ("basic-credentials", ("auth",), _NPM_AUTH, _npm_auth),
    ("secret-assignment", _SECRET_HINTS, _KEY_VALUE_QUOTED, _keep_value(4, "secret")),
    ("secret-assignment", _SECRET_HINTS, _KEY_VALUE_LINE, _keep_value(2, "secret")),
    ("secret-assignment", _SECRET_HINTS, _KEY_VALUE_ESCAPED, _keep_value(2, "secret")),
    ("secret-assignment", ("auth_pass",), _AUTH_PASS_LINE, _random_value(2, "password")),
    ("secret-assignment", ("pass",), _COMMENT_PASSWORD, _keep_value(2, "secret", min_len=6)),
    ("secret-assignment", ("pass",), _PROSE_PASSWORD, _prose_password),
    ("secret-assignment", _SECRET_HINTS, _COLON_KEY, _colon_key),
    ("secret-assignment", (*_SECRET_HINTS, "userlist"), _SECRET_FILE_WRITE, _secret_file_write),
    ("netrc-password", ("password",), _NETRC_LINE, _netrc_line),
    ("basic-credentials", ("auth", "basic"), _BASE64_WORD, _basic_credentials),
    ("base64-credentials", ("eyj", "ewo", "ew0", "ls0tls1"), _BASE64_DOCUMENT, _base64_document),
    ("email", ("@",), _EMAIL, _email),
)
# Every context rule needs one of these on its line (all of its patterns are single-line):
# finding them with str.find and running the regexes on those lines only is ~20x faster
# than running each regex over whole files (Python's re has no multi-literal prefilter).
_LINE_HINTS = tuple(sorted({h for _, hints, _, _ in _CONTEXT_RULES for h in hints}))
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _ascii_lower(text: str) -> str:
    """`text` lowered with every index kept, for finding ASCII hints by position.

    str.lower can lengthen a character beyond ASCII (`İ`); when the length is kept,
    every character mapped to one. str.translate costs ~40x str.lower, and it was
    half of scrub's time, so it runs only on those rare texts.
    """
    lowered = text.lower()
    return lowered if len(lowered) == len(text) else text.translate(_ASCII_LOWER)


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


def _scrub_lines(text: str, counts: Counter[str]) -> str:
    """The context rules, each on the lines that hold one of its hints."""
    lowered = _ascii_lower(text)
    pieces: list[str] = []
    last = 0
    for start, end in _hint_lines(lowered):
        line, low = text[start:end], lowered[start:end]
        present = {h for h in _LINE_HINTS if h in low}
        for kind, hints, pattern, repl in _CONTEXT_RULES:
            if not present.isdisjoint(hints):
                line = sub(pattern, line, counts, kind, repl)
        pieces += [text[last:start], line]
        last = end
    pieces.append(text[last:])
    return "".join(pieces)


def scrub(text: str) -> Scrubbed:
    """Replace every credential and personal address in `text` with a placeholder, counted by kind; idempotent."""
    counts: Counter[str] = Counter()
    if "PRIVATE KEY" in text:
        text = sub(_PEM_BLOCK, text, counts, "private-key", lambda m: placeholder("private-key"))
        text = sub(_PEM_OPEN, text, counts, "private-key", lambda m: placeholder("private-key"))
    if "OpenVPN Static key" in text:
        text = sub(_OPENVPN_KEY, text, counts, "private-key", lambda m: placeholder("private-key"))
    if "Private-Lines:" in text:
        text = sub(
            _PUTTY, text, counts, "private-key", lambda m: "Private-Lines: 0\n" + placeholder("private-key")
        )
    for kind, hints, pattern in TOKEN_PATTERNS:
        if any(h in text for h in hints):
            text = sub(pattern, text, counts, kind, lambda m, kind=kind: placeholder(kind))
    if "curl" in text:
        text = _curl_lines(text, counts)
    text = _scrub_lines(text, counts)
    if "=\\\n" in text:
        text = sub(_ASSIGN_CONTINUED, text, counts, "secret-assignment", _named_value)
    if "\\\n" in text:
        text = sub(_FLAG_CONTINUED, text, counts, "cli-password", _flag_space_any)
    if "<<" in text and _HEREDOC_HINT.search(text):
        text = sub(_HEREDOC, text, counts, "cli-password", _heredoc)
    if "=(" in text and _ARRAY_OPENS_LINE.search(text):
        text = sub(_SECRET_ARRAY_LINES, text, counts, "secret-assignment", _secret_array)
    if "{" in text and _FUNCTION_PRINTS.search(text):
        text = sub(_SECRET_FUNCTION, text, counts, "secret-assignment", _secret_function)
    if "send" in text and "ass" in text:  # spans lines, so not a line rule
        text = sub(_EXPECT_SEND, text, counts, "cli-password", _expect_send)
    text = scrub_commands(text, counts)
    text = scrub_detected(text, _ascii_lower(text), counts)
    return Scrubbed(text, counts)

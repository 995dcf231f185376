"""What a secret looks like in a script: literal values, secret-sounding names, placeholders.

Shared by the scrubber's rule modules (secrets, secret_commands,
secret_detectors). Owns the placeholders and the two questions every rule
asks: is this value a literal credential (not `$PASSWORD`, a path or a
metavar), and does this name hold one (`MYSQL_PWD` yes, `PASSWORD_FILE` no).
Pure functions.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable

PLACEHOLDER_PREFIX = "REDACTED"


def placeholder(kind: str) -> str:
    """The bare-word placeholder for a kind: "github-token" -> "REDACTED_GITHUB_TOKEN"."""
    return f"{PLACEHOLDER_PREFIX}_{kind.upper().replace('-', '_')}"


# Values that are clearly not credentials: switches, numbers and placeholders.
_NOT_SECRET = frozenset(
    {"true", "false", "yes", "no", "on", "off", "none", "null", "nil", "y", "n", "t", "f"}
    | {"password", "passwd", "pass", "passphrase", "secret", "token", "changeme", "empty", "unset", "default"}
    | {"change-me", "change_me"}
    | {"pwd", "prompt", "ask", "stdin", "env", "file", "random", "auto", "required", "optional"}
    | {"value", "placeholder", "redacted", "hidden", "masked", "xxx"}
)
# Upper-case words are metavars (`--password PASSWORD`, patator's `password=FILE0`) or enum
# values (`WRAPPING_PASS=LOGIN`, `token="__BASHUNIT_IGNORE__"`).
_METAVAR = re.compile(r"[A-Z_]{1,32}[0-9]?")
# Words joined by underscores are what documentation writes where a value goes (tldr's
# `--account-key storage_account_key`, `rabbitmqctl change_password alice new_password`), and a
# file name is where a secret is kept, not the secret (`-p cert.pem`, `--secret-key key.gpg`).
_WORDS_PLACEHOLDER = re.compile(r"[A-Za-z]+(?:_[A-Za-z]+)+")
# ... when one of the words says what goes there (`correct_horse_battery` is a password).
_PLACEHOLDER_WORDS = frozenset(
    "key password passwd pass passphrase secret token value name id user username file path dir url "
    "host account setting new old your my example placeholder access fake dummy mock sample".split()
)
_FILE_NAME = re.compile(
    r"[\w.\-]+\.(?:pem|crt|cer|key|gpg|asc|p12|pfx|jks|txt|json|ya?ml|ini|conf|cfg|env|pub)", re.I
)
# A mount or reference spec, not a value: docker's `--secret id=npmrc,src=.npmrc`, a `file:` or
# `env:` reference (`--auth-key=file:/run/ts.key`).
_SPEC_KEY = r"(?:id|src|source|target|dst|destination|type|env|mode|uid|gid|required)"
_SPEC = re.compile(
    # One way to match: a comma between segments (`(?:K=[^,]*,?)+` backtracked exponentially).
    rf"(?:[\w.\-]+,)?{_SPEC_KEY}=[^,]*(?:,{_SPEC_KEY}=[^,]*)*,?"
    r"|(?:file|env):\S+"
    r"|(?:pk_(?:live|test)_|phc_)\w+"  # public by design: Stripe's publishable keys, PostHog's project key
)
# Code that names a value: `var.db_password`, `settings.DB_PASSWORD`, `process.env.TOKEN,` (HCL,
# Python, JavaScript written by a script), from the objects such code starts at (a password of
# dotted words, `correct.horse.battery`, is still one).
_ATTRIBUTE_REF = re.compile(
    r"(?:var|local|module|data|settings|args|self|this|config|cfg|conf|os|env|secrets|inputs|vars|params|process"
    r"|opts|options|app|random_password|random_string)(?:\.[A-Za-z_][A-Za-z_]*)+,?"
)
# What documentation writes in hyphens where a value goes: your-api-token, replace-me, api-key-here.
_HYPHEN_PLACEHOLDER = re.compile(
    r"(?i)(?:(?:your|my|insert|enter|replace|paste)-[a-z\-]*|[a-z\-]*-here|replace-me|xxx+-[a-z\-]*)"
)


# A generated password or key whose first character is one is_literal_value otherwise takes for a
# reference, an option or a path: quoted `@...`/`-...`/`%...`, or AWS's 40-character secret keys.
_GENERATED_SYMBOL_FIRST = re.compile(r"[@\-%^](?!/)[A-Za-z0-9_+/=!#%&*@^~.\-]{7,127}|/[A-Za-z0-9+/]{39}")


def _mixed(value: str) -> bool:
    """Upper and lower case and digits: a generated value, not words."""
    return (
        any(c.isupper() for c in value)
        and any(c.islower() for c in value)
        and any(c.isdigit() for c in value)
    )


def is_literal_value(value: str, min_len: int = 1) -> bool:
    """True when a value is a literal credential, not an expansion, path, URL, switch, metavar or placeholder.

    Every rule below removed false positives measured on Debian's shell scripts
    (`PW="/etc/shadow"`, `token=substr(...)`, `--password PASSWORD`, `XXXXXX`).
    """
    quoted = len(value) >= 2 and value[0] == value[-1] and value[0] in "'\""
    inner = value[1:-1] if quoted else value
    # An escaped `\$` in double quotes is a literal dollar (`"Dw6\$Mk1"`), not an expansion.
    if (not quoted or value[0] == '"') and (re.search(r"(?<!\\)\$", inner) or "`" in inner):
        return False
    if _GENERATED_SYMBOL_FIRST.fullmatch(inner) and (quoted or inner[0] == "/") and inner.count("/") <= 3:
        # `'@XeKe7AXBflpTaJ4'`, an AWS secret key that starts with `/`: a generated value, not
        # a reference, an option or a path (those have words, dots, no digit-and-case mix).
        return _mixed(inner)
    if len(inner) < max(1, min_len) or inner[0] in "$`-\\/<%@[{(~^" or inner.startswith(PLACEHOLDER_PREFIX):
        return False
    if inner.startswith(("./", "../")):  # a relative path: --from-file=password=./secrets/db.txt
        return False
    # A usage line's optional part: `[--api-key KEY]` gives the metavar `KEY]`.
    if inner.endswith("]") and "[" not in inner:
        inner = inner[:-1]
    # Quotes inside a value are shell quoting around an expansion: `KEY='"$KEY"'` in a sed script.
    # Letters beyond ASCII may be a password's (`Kq7vñT2m`); other non-ASCII characters (dashes,
    # quotes, symbols of localized text) are not.
    if any(c.isspace() or (ord(c) > 127 and not c.isalnum()) or c in "'\"" for c in inner) or not any(
        c.isalnum() for c in inner
    ):
        return False
    # URL credentials are the url-password rule's; a whole URL is an address, not a secret.
    if "://" in inner:
        return False
    low = inner.lower()
    if low in _NOT_SECRET or (inner.isdigit() and len(inner) < 6) or set(low) <= set("x*."):
        return False
    if any(r.fullmatch(inner) for r in (_FILE_NAME, _ATTRIBUTE_REF, _HYPHEN_PLACEHOLDER, _SPEC)):
        return False
    if _WORDS_PLACEHOLDER.fullmatch(inner) and _PLACEHOLDER_WORDS.intersection(inner.lower().split("_")):
        return False
    return not _METAVAR.fullmatch(inner)


def replace_value(value: str, kind: str) -> str:
    """The placeholder in the value's own quotes."""
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[0] + placeholder(kind) + value[0]
    return placeholder(kind)


def sub(
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


# --- names that hold secrets -------------------------------------------------
# A name ending in a secret word holds one: DB_PASSWORD, PGPASSWORD, apiKey, MYSQL_PWD.
_SECRET_SUFFIX = re.compile(
    r"(?:TOKEN|PASSWORDS?|PASSWD|PASSPHRASE|SECRETS?|SECRET_?KEY|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|AUTH_?KEY"
    r"|CREDENTIALS?|(?:^|_)CREDS|(?:^|_)PASS|(?:^|_)PWD?|(?:^|_)PSK|ERLANG_?COOKIE"
    # a service's word glued to PASS/PW: SSHPASS, DBPASS, ROOTPW, REMOTEPASS, ADMINPASSWD
    r"|(?:^|_)(?:SSH|DB|ROOT|ADMIN|REMOTE|LOCAL|MQTT|SMTP|MAIL|FTP|SFTP|LDAP|BIND|VNC|RCON|SA|SU|USER|APP|"
    r"API|WEB|HTTP|PROXY|REDIS|MYSQL|PG|MONGO|RABBIT|AMQP|KEY|STORE|WIFI|WPA)(?:PASS|PASSWD|PW|PWD))$",
    re.I,
)
# A secret word followed by one qualifier holds one too (SMTP_PASSWORD_PROD, GITHUB_TOKEN_B64),
# unless the qualifier says the name describes the secret rather than holds it.
_SECRET_PARTS = frozenset("PASS PASSWORD PASSWORDS PASSWD PASSPHRASE SECRET SECRETS TOKEN TOKENS".split())
_DESCRIBES = frozenset(
    "FILE FILES PATH PATHS DIR URL URI ENDPOINT HOST SERVER PORT NAME NAMES ID IDS LEN LENGTH SIZE BITS "
    "TTL TIMEOUT EXPIRY EXPIRES EXPIRATION LIFETIME AGE TYPE KIND PROMPT MSG MESSAGE TEXT TITLE LABEL HELP "
    "FORMAT FMT HEADER PREFIX SUFFIX VAR ENV CMD COMMAND PROG PROGRAM SCRIPT TOOL BIN SOURCE SRC HELPER "
    "FIELD REF ARN LOCATION PARAM SCOPE SCOPES ISSUER AUDIENCE REGEX PATTERN MIN MAX COUNT RETRIES OPT OPTS "
    "OPTION OPTIONS FLAG FLAGS ARG ARGS MODE METHOD POLICY STORE MANAGER PROVIDER BACKEND VERSION ALGORITHM "
    "ALGO HASHING CHARS CHARSET TAG PLUGIN HANDLER FUNC FUNCTION HOOK SERVICE USER USERNAME LOGIN ENTRY "
    "STATUS STATE RESULT OUTPUT LOG LIST ARRAY MAP MAPS TABLE COLUMN INDEX ENABLED DISABLED REQUEST "
    "STRENGTH LOCK DB FOLDER VOLUME MOUNT EXTENSION EXT HASH HASHED ATTRIBUTE ATTR ENCODER ENCODING VALIDATOR "
    "HASHER CHECK CHECKER ROLE ROLES ENGINE ENGINES".split()
)
# `*_KEY` holds a secret unless its name says it is public or a lookup key (GPG_KEY, SORT_KEY).
_NOT_SECRET_KEY = _DESCRIBES | frozenset(
    "PUBLIC PUB GPG PGP GNUPG SIGNING SIGN SSH HOST SORT PRIMARY FOREIGN PARTITION RANGE ROW CACHE LOOKUP "
    "REPO REPOSITORY APT YUM RPM RELEASE ARCHIVE TRUSTED HOT SHORTCUT BIND MOD LEADER TMUX KBD KEYBOARD CONFIG CONF "
    "SETTING SETTINGS JSON YAML DICT GROUP SECTION REG REGISTRY S3 OBJECT BUCKET SEARCH IDEMPOTENCY WEBSOCKET "
    "SEC REQUEST PUBLISHABLE SITE".split()
)
_SECRET_KEY_PAIRS = frozenset(
    {("SECRET", "KEY"), ("API", "KEY"), ("ACCESS", "KEY"), ("PRIVATE", "KEY"), ("AUTH", "KEY")}
)
# `next_token` is a parser's lookahead or an API's page (AWS NextToken), not a credential.
_CURSOR = frozenset("NEXT PREV PREVIOUS CUR CURR CURRENT LAST FIRST PEEK PAGE CONTINUATION".split())
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
# The shell's own variables: the working directory is not a password.
_SHELL_NAMES = frozenset({"PWD", "OLDPWD"})


def _parts(name: str) -> list[str]:
    """`influxDBPassword` -> ["INFLUX", "DBPASSWORD"]; `smtp-password_prod` -> ["SMTP", "PASSWORD", "PROD"]."""
    return [p for p in _CAMEL.sub("_", name).upper().replace("-", "_").split("_") if p]


def is_secret_name(name: str) -> bool:
    """Whether a variable, key or field of this name holds a credential.

    Yes for names ending in a secret word (`DB_PASSWORD`, `apiKey`, `MYSQL_PWD`, `CREDS`),
    `*_KEY` (`STRIPE_KEY`, not `GPG_KEY`), and `*_PASS*`, `*_SECRET*`,
    `*_TOKEN*`, `*_SECRET_KEY*`, `*_API_KEY*` with one qualifier (`SMTP_PASSWORD_PROD`,
    `SECRET_KEY_BASE`, not `SECRET_NAME`, `ACCESS_KEY_ID` or `password_hashing_algorithm`).
    """
    parts = _parts(name)
    if not parts or "_".join(parts) in _SHELL_NAMES:
        return False
    if len(parts) == 2 and parts[0] in _CURSOR and parts[1] == "TOKEN":  # a parser's or a pager's
        return False
    if parts[0] in ("EXISTING", "ASK"):  # helm's existingSecret names a Secret; askPass a program
        return False
    if _SECRET_SUFFIX.search("_".join(parts)):
        return True
    if _only_key(parts):
        return not _NOT_SECRET_KEY.intersection(parts[:-1])
    # One qualifier at most: `configMapAndSecretChangeDetectionStrategy` describes, it does not hold.
    if len(parts) >= 3 and (parts[-3], parts[-2]) in _SECRET_KEY_PAIRS:  # SECRET_KEY_BASE, API_KEY_PROD
        return parts[-1] not in _DESCRIBES
    # `password_encryption = scram-sha-256` says how passwords are kept (ENCRYPTION_KEY holds one).
    return len(parts) >= 2 and parts[-2] in _SECRET_PARTS and parts[-1] not in _DESCRIBES | {"ENCRYPTION"}


def _only_key(parts: list[str]) -> bool:
    """A name whose only secret word is a final `KEY` (STRIPE_KEY, but not API_KEY or SECRET_KEY)."""
    return len(parts) > 1 and parts[-1] == "KEY" and not _SECRET_SUFFIX.search("_".join(parts))


_KEY_CHARS = re.compile(r"[A-Za-z0-9_\-+/=]{8,}")


def looks_random(value: str) -> bool:
    """8+ key characters (letters, digits, `_-+/=`) mixing letters and digits, quotes aside."""
    inner = value[1:-1] if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"" else value
    inner = inner.removeprefix("base64:")  # Laravel's APP_KEY=base64:...
    return (
        _KEY_CHARS.fullmatch(inner) is not None
        and any(c.isdigit() for c in inner)
        and any(c.isalpha() for c in inner)
    )


def holds_secret(name: str, value: str) -> bool:
    """Whether `name` set to `value` is a credential: a secret name and a literal value.

    A name that is secret only by ending in `_KEY` also needs a value that looks
    random (8+ letters and digits): most `*_KEY`s in scripts are lookup keys
    (`default_save_key="C-s"`, `METADATA_KEY='flink-start'`), measured on the corpus.
    """
    if _parts(name)[-2:] == ["SECRET", "ID"] and _APPROLE_SECRET_ID.fullmatch(value.strip("'\"")):
        # Vault AppRole's `secret_id` is its password, a UUID; AWS's `--secret-id` names a secret.
        return True
    if not is_secret_name(name):
        # `NEO4J_AUTH=neo4j/PW`, `GH_AUTH=TOKEN`, `WEBHOOK_HMAC=KEY`: these name a credential only
        # when the value looks like one (`AUTH=basic`, `HMAC=sha256` are settings).
        parts = _parts(name)
        return len(parts) > 1 and parts[-1] in ("AUTH", "HMAC") and _token_like(value)
    if _is_passphrase(name, value):
        return True
    if not is_literal_value(value):
        return False
    if _only_key(_parts(name)):
        # 40 or 16 upper-case hex digits under *_KEY is a GPG fingerprint or key id, which is public
        # (Dockerfiles' `ENV TINI_KEY 595E...`, `GOSU_KEY`).
        return looks_random(value) and not _FINGERPRINT.fullmatch(value.strip("'\""))
    return True


_APPROLE_SECRET_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
_FINGERPRINT = re.compile(r"[0-9A-F]{40}|[0-9A-F]{16}|(?:[0-9A-F]{4} ?){10}")


def _token_like(value: str) -> bool:
    """A literal of 16+ characters with 2+ digits that is not snake_case words (`caching_sha2_password`)."""
    inner = value.strip("'\"")
    return (
        is_literal_value(value)
        and looks_random(value)
        and len(inner) >= 16
        and sum(c.isdigit() for c in inner) >= 2
        and not re.search(r"[a-z]{3,}_[a-z]", inner)
    )


# A password's own name: DB_PASSWORD, passphrase, MYSQL_ROOT_PASS (not PASSWORD_PROMPT, which describes).
_PASSWORD_NAME = re.compile(r"(?:^|_)(?:PASSWORD|PASSWD|PASSPHRASE|PASS|PWD)$")
_NAMES_A_PASSWORD = re.compile(r"pass|pwd|shadow", re.I)


def _is_passphrase(name: str, value: str) -> bool:
    """A quoted value of 2-8 words under a password's own name: `PASSPHRASE="correct horse battery"`.

    Literal values with spaces are otherwise never secrets (`is_literal_value`):
    on the corpus every such value under a secret-like name was a message
    (`msg_new_passwd_prompt='...'`, `password_prompt="Enter password to
    unlock disk"`) or a command (`cat_passwd='getent passwd'`); those names
    end in a describing word, and a value that ends like a sentence or a
    prompt (`.`, `:`, `?`, `!`), holds a path or names a password is kept.
    """
    if len(value) < 2 or value[0] != value[-1] or value[0] not in "'\"":
        return False
    inner = value[1:-1]
    if inner != inner.strip() or not 2 <= len(inner.split()) <= 8 or inner[-1] in ".:?!":
        return False
    if any(c in inner for c in "$`'\"\\/") or not all(c.isascii() and c.isprintable() for c in inner):
        return False
    if _NAMES_A_PASSWORD.search(inner):  # a command or a message about one: `cat_passwd='getent passwd'`
        return False
    return _PASSWORD_NAME.search("_".join(_parts(name))) is not None

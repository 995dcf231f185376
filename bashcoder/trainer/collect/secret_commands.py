"""Passwords given to common tools on their command line: `redis-cli -a PW`, `smbclient -U admin%PW`.

Owns the table of tools and how each takes a password (an option's next
word, a glued option `-pPW`, `user%PW`, `pass:PW`, `user/PW@db`, the last
word after `htpasswd -b`, the value of a secret-named setting after `config
set`), and a small word splitter that finds the simple commands of a line
(with the lines a trailing backslash continues it onto). A bare `-p` is a port or `mkdir -p` for most tools,
which is why options count only for the tools that take a password there.
Comments are not skipped: `# mysql -pSECRET` in a comment leaks as well.
Pure functions; what counts as a literal value comes from secret_values.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from bashcoder.trainer.collect.secret_values import (
    is_literal_value,
    is_secret_name,
    looks_random,
    replace_value,
)

KIND = "cli-password"


@dataclass(frozen=True)
class Tool:
    """How one tool takes a password on its command line."""

    options: tuple[str, ...] = ()
    """Options whose next word is the password: `redis-cli -a PW`."""
    attached: tuple[str, ...] = ()
    """Options the password is glued to: `mysql -pPW`, `7z -pPW`, `xfreerdp /p:PW`."""
    user_options: tuple[str, ...] = ()
    """Options whose value is `user<separator>PW`: `smbclient -U admin%PW`, `lftp -u bob,PW`."""
    separator: str = ""
    keywords: tuple[str, ...] = ()
    """Words whose next word is the password: `mysqladmin password PW`, `nmcli ... password PW`."""
    prefixes: tuple[str, ...] = ()
    """Word prefixes followed by the password: openssl's `pass:PW`."""
    batch_flag: str = ""
    """A short flag after which the last word is the password: `htpasswd -b FILE USER PW`."""
    positional: int = -1
    """The index among non-option words of the password: `wpa_passphrase SSID PW` is 1."""
    user_slash: bool = False
    """The first non-option word is `user/PW[@db]`: Oracle's `sqlplus scott/PW@orcl`."""
    last: bool = False
    """The last non-option word is the password: `openssl passwd -6 -salt S PW`."""
    after_word: str = ""
    """The password is the `after_offset`-th word after this one: `grafana-cli admin reset-admin-password PW`."""
    after_offset: int = 1
    value_options: tuple[str, ...] = ()
    """Options whose next word is some other value, never the password: `-salt S`."""
    ini_setter: bool = False
    """`--set FILE SECTION NAME VALUE`: the value of a secret-named setting (crudini, openstack-config)."""
    http_basic: bool = False
    """`config http-basic.HOST USER PW`: the word after the user (poetry, composer)."""
    requires: str = ""
    """A word the command must hold for `options` to count: `aws ssm put-parameter --type
    SecureString --value PW` (a String parameter's value is configuration)."""
    named_pairs: bool = False
    """Non-option words after the third are NAME VALUE settings; a secret-named NAME (or one
    ending in `key` with a random-looking value) gives a password: `rclone config create R b2 key PW`."""
    named_values: bool = False
    """A word naming a secret is followed by its value: `wp config set DB_PASSWORD PW`,
    `npm config set //registry.npmjs.org/:_authToken TOKEN`, `git config user.password PW`."""


def _tools(names: str, tool: Tool) -> dict[str, Tool]:
    return dict.fromkeys(names.split(), tool)


_LOGIN = Tool(options=("-p", "--password"))
TOOLS: dict[str, Tool] = {
    **_tools(
        "mysql mysqldump mysqlimport mysqlshow mysqlcheck mysqlslap mysqlpump mysqlsh mariadb mariadb-dump "
        "mariadb-import mariadb-check mariadb-show mariadb-slap",
        Tool(attached=("-p",)),  # `mysql -p db` prompts, and db is a database name
    ),
    **_tools("mysqladmin mariadb-admin", Tool(attached=("-p",), keywords=("password",))),
    **_tools(
        "mongo mongosh mongodump mongorestore mongoexport mongoimport mongostat mongotop mongofiles",
        Tool(options=("-p", "--password")),
    ),
    "redis-cli": Tool(options=("-a", "--pass")),
    "sshpass": Tool(options=("-p",), attached=("-p",)),
    **_tools(
        "ldapsearch ldapadd ldapmodify ldapdelete ldapwhoami ldapcompare ldapmodrdn ldapexop",
        Tool(options=("-w",), attached=("-w",)),
    ),
    "ldappasswd": Tool(options=("-w", "-a", "-s"), attached=("-w",)),
    **_tools("zip unzip zipcloak", Tool(options=("-P", "--password"))),
    **_tools("7z 7za 7zr 7zz rar unrar", Tool(attached=("-p",))),
    **_tools("ipmitool sqlcmd bcp osql", Tool(options=("-P",))),
    "cqlsh": Tool(options=("-p", "--password")),
    "rdesktop": Tool(options=("-p",)),
    **_tools("xfreerdp xfreerdp3 wlfreerdp sdl-freerdp sdl-freerdp3", Tool(attached=("/p:", "/password:"))),
    **_tools(
        "keytool jarsigner",
        Tool(
            options=(
                "-storepass",
                "-keypass",
                "-srcstorepass",
                "-deststorepass",
                "-srckeypass",
                "-destkeypass",
            )
        ),
    ),
    "influx": Tool(options=("-password", "--password")),
    **_tools("docker podman buildah skopeo nerdctl oras", Tool()),  # only their `login` (below)
    **_tools("docker/login podman/login buildah/login skopeo/login nerdctl/login oras/login", _LOGIN),
    **_tools(
        "rpcclient smbcacls smbget smbtree smbcquotas net winexe wmic smbmap",
        Tool(user_options=("-U", "--user", "--username"), separator="%"),
    ),
    # `smbclient //server/share PW -U user`: the password may follow the service.
    "smbclient": Tool(
        user_options=("-U", "--user", "--username"),
        separator="%",
        positional=1,
        value_options=tuple(
            "-U --user --username -c --command -W --workgroup -I --ip-address -p --port -n --netbiosname "
            "-O --socket-options -s --configfile -l --log-basename -d --debuglevel -t --timeout -m --max-protocol "
            "-A --authentication-file -D --directory -T --tar -L --list -M --message -b --send-buffer -R "
            "--name-resolve -i --scope --pw-nt-hash".split()
        ),
    ),
    "lftp": Tool(user_options=("-u", "--user"), separator=","),
    "htpasswd": Tool(batch_flag="b"),
    "nmcli": Tool(keywords=("password", "wifi-sec.psk", "802-1x.password", "wifi-sec.wep-key0")),
    "wpa_passphrase": Tool(positional=1),
    **_tools("sqlplus sqlldr expdp impdp exp imp rman dgmgrl", Tool(user_slash=True)),
    "openssl": Tool(options=("-k",), prefixes=("pass:",)),  # `openssl enc -k PW`
    "ssh-keygen": Tool(options=("-N", "-P")),  # new and old passphrase
    **_tools("rabbitmqctl/add_user rabbitmqctl/change_password", Tool(positional=2)),
    "rabbitmqctl": Tool(),  # only add_user and change_password (above)
    **_tools("az/login", Tool(options=("-p", "--password"))),
    "az": Tool(),  # only its login (above); --account-key and --sas-token are _FLAG_SPACE's
    "ngrok": Tool(keywords=("authtoken", "add-authtoken", "--authtoken")),
    **_tools("oc/login cf/login helm/registry rabbitmqadmin", Tool(options=("-p", "--password"))),
    "cf/auth": Tool(positional=2),  # cf auth USER PW
    **_tools("oc helm cf", Tool()),  # only their logins (above)
    "twine": Tool(options=("-p", "--password")),
    **_tools("plink pscp psftp", Tool(options=("-pw",))),
    "elasticsearch-users": Tool(options=("-p", "--password")),
    "slappasswd": Tool(options=("-s",)),
    "codecov": Tool(options=("-t", "--token")),
    **_tools("http https", Tool(user_options=("-a", "--auth"), separator=":")),  # HTTPie
    "openssl/passwd": Tool(last=True, value_options=("-salt", "-in")),
    "grafana-cli/admin": Tool(after_word="reset-admin-password"),
    "grafana-cli": Tool(),
    "mc/alias": Tool(
        after_word="set", after_offset=4, value_options=("--api", "--path")
    ),  # set N URL USER PW
    "mc": Tool(),
    "snyk/auth": Tool(positional=1),
    "snyk": Tool(),
    "gh/secret": Tool(options=("-b", "--body")),  # gh secret set NAME --body PW
    "gh": Tool(),
    "az/keyvault": Tool(options=("--value",)),  # az keyvault secret set --value PW
    "mkpasswd": Tool(positional=0, value_options=("-m", "--method", "-S", "--salt", "-R", "--rounds", "-P")),
    "x11vnc": Tool(options=("-storepasswd", "-passwd", "-viewpasswd")),
    "neo4j-admin/dbms": Tool(after_word="set-initial-password"),
    "neo4j-admin/set-initial-password": Tool(positional=1),
    "neo4j-admin": Tool(),
    "ansible-vault/encrypt_string": Tool(
        positional=1,
        value_options=(
            "-n",
            "--name",
            "--vault-id",
            "--vault-password-file",
            "--encrypt-vault-id",
            "--stdin-name",
            "--output",
        ),
    ),
    "ansible-vault": Tool(),
    "vault/login": Tool(
        positional=1,
        value_options=(
            "-method",
            "-path",
            "-address",
            "-namespace",
            "-format",
            "-ca-cert",
            "-ca-path",
            "-client-cert",
            "-client-key",
            "-tls-server-name",
            "-mfa",
            "-header",
        ),
    ),
    "vault": Tool(),
    **_tools("crudini openstack-config", Tool(ini_setter=True)),
    "poetry": Tool(http_basic=True),
    # Config setters: `<tool> config set NAME VALUE`, the value of a secret-named setting.
    **_tools("wp npm yarn pnpm git conda heroku dokku", Tool(named_values=True)),
    "composer": Tool(named_values=True, http_basic=True),
    "aws": Tool(named_values=True, options=("--secret-string",)),  # secretsmanager create-secret
    "aws/ssm": Tool(options=("--value",), requires="SecureString"),
    "rclone/config": Tool(named_pairs=True),  # config create NAME TYPE k v ..., config update NAME k v
    "dotnet/nuget": Tool(options=("-k", "--api-key")),  # dotnet nuget push PKG -k KEY
    "dotnet": Tool(),
    "rclone": Tool(),
    # macOS signing in CI: unlock/create a keychain, import a .p12, let codesign use the key.
    # `security`'s -p is a password for keychain commands only (find-identity -p codesigning is a policy)
    **_tools(
        "security/unlock-keychain security/create-keychain security/set-keychain-password",
        Tool(options=("-p",)),
    ),
    **_tools("security/import security/export", Tool(options=("-P",))),
    **_tools("security/add-generic-password security/add-internet-password", Tool(options=("-w",))),
    "security": Tool(),
    "security/set-key-partition-list": Tool(options=("-k",)),  # elsewhere -k is a keychain's path
    "xcrun/altool": Tool(options=("-p", "--password")),
    "xcrun": Tool(),
    **_tools("apksigner", Tool(options=("--ks-pass", "--key-pass"), prefixes=("pass:",))),
    **_tools("racadm cypher-shell", Tool(options=("-p", "--password"))),
    **_tools("mosquitto_pub mosquitto_sub mosquitto_rr", Tool(options=("-P", "--pw"))),
    "mosquitto_passwd": Tool(batch_flag="b"),  # mosquitto_passwd -b FILE USER PW
    **_tools(
        "snmpwalk snmpget snmpset snmpbulkwalk snmpbulkget snmpgetnext snmptrap snmptable snmpdelta",
        Tool(options=("-A", "-X")),  # SNMPv3 authentication and privacy passphrases
    ),
    "pihole": Tool(options=("-p",)),  # pihole -a -p PW
    **_tools("kadmin kadmin.local", Tool(options=("-w",))),
    **_tools(
        "arangosh arangodump arangorestore arangoimport arangoimp arangobench arangoexport",
        Tool(options=("--server.password",)),
    ),
    "db2": Tool(),  # `connect to DB user U using PW` is the db2-using rule's (`using` alone is a setting's)
    "samba-tool": Tool(options=("--adminpass", "--password", "--newpassword")),
    "cargo/login": Tool(positional=1, value_options=("--registry", "-Z", "--config", "--index")),
    "cargo": Tool(),
    "nuget/setapikey": Tool(positional=1),
    "nuget": Tool(),
    "vault/operator": Tool(after_word="unseal"),  # vault operator unseal KEY
    "cloudflared/service": Tool(after_word="install"),  # cloudflared service install TOKEN
    "cloudflared": Tool(),
    # raspi-config nonint do_wifi_ssid_passphrase SSID PW
    "raspi-config/nonint": Tool(after_word="do_wifi_ssid_passphrase", after_offset=2),
    "raspi-config": Tool(),
    # pulumi config set --secret NAME PW (without --secret the value is plain configuration)
    "pulumi/config": Tool(after_word="set", after_offset=2, requires="--secret"),
    "pulumi": Tool(),
}
_SETTERS = frozenset({"config", "set", "config:set"})
_SETTING = re.compile(r"[\w.:/@\-]+")
"""Words after which a `named_values` tool takes a setting's name, then its value."""
# Commands that run a later word as a command, and their options that take a value.
_WRAPPERS: dict[str, frozenset[str]] = {
    **dict.fromkeys(("sudo", "doas"), frozenset({"-u", "-g", "-p", "-C", "-h", "-U", "-r", "-t", "-D"})),
    "env": frozenset({"-u", "-C", "-S"}),
    "nice": frozenset({"-n"}),
    "ionice": frozenset({"-c", "-n", "-p"}),
    "timeout": frozenset({"-s", "-k"}),
    "stdbuf": frozenset({"-i", "-o", "-e"}),
    **dict.fromkeys(("exec", "command", "nohup", "time", "chronic"), frozenset({"-a"})),
}

# Reserved words that may stand before a command: `until mysqladmin -pPW ping`, `do ipmitool -P PW`.
_RESERVED = frozenset({"if", "then", "else", "elif", "do", "while", "until", "!", "{"})

# One shell token: a command separator, a redirection operator or a word. `#` separates too,
# so commands inside comments are read; a lone quote is skipped rather than eat the line.
_TOKEN = re.compile(
    r"(?P<sep>\|\|?|&&?|;;?|\(|\)|`|\$\(|(?<![^\s;&|(])\#)"
    r"|(?P<redir>\d*(?:<<<|<<-?|>>|<>|>&|<&|>\||<|>)&?-?)"
    r"|(?P<word>(?:[^\s'\"\\|&;()<>`]|\\.|'[^'\n]*'|\"(?:[^\"\\\n]|\\.)*\")+)"
    r"|(?P<other>\S)"
)
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\+?=")
_TOOL_NAMES = frozenset(n for n in TOOLS if "/" not in n)
# What may stand around a command's name: `$(mysql`, `"/usr/bin/zip"`, `sshpass;`.
_AROUND_NAME = " \t\r\n/$(`'\";&|{}#)"
_WORDS = re.compile(f"[{re.escape(_AROUND_NAME)}]+")


@dataclass(frozen=True)
class _Word:
    text: str
    start: int
    end: int

    @property
    def bare(self) -> str:
        """The word without quotes (enough to compare with option names)."""
        return self.text.replace("'", "").replace('"', "")


def _commands(line: str) -> Iterator[list[_Word]]:
    """The simple commands of a line, as words with spans; redirection targets are dropped."""
    words: list[_Word] = []
    skip_next = False
    for m in _TOKEN.finditer(line):
        if m.lastgroup == "word":
            if skip_next:
                skip_next = False
            else:
                words.append(_Word(m.group(), m.start(), m.end()))
        elif m.lastgroup == "redir":
            skip_next = not m.group().endswith(("&", "-"))
        elif m.lastgroup == "sep":
            if words:
                yield words
            words, skip_next = [], False
    if words:
        yield words


def _tool_of(words: list[_Word]) -> tuple[Tool, list[_Word]] | None:
    """The tool a simple command runs and its arguments, past assignments and wrappers like sudo."""
    i = 0
    while i < len(words):
        bare = words[i].bare
        name = bare.rsplit("/", 1)[-1]
        if _ASSIGNMENT.match(bare) or bare in _RESERVED:
            i += 1
        elif name in _WRAPPERS:
            i += 1
            while i < len(words) and (words[i].bare.startswith("-") or _ASSIGNMENT.match(words[i].bare)):
                i += 2 if words[i].bare in _WRAPPERS[name] else 1
            if name == "timeout" and i < len(words) and words[i].bare[:1].isdigit():
                i += 1
        else:
            break
    if i >= len(words):
        return None
    name = words[i].bare.rsplit("/", 1)[-1]
    args = words[i + 1 :]
    positional = [w for w in args if not w.bare.startswith("-")]
    if positional and f"{name}/{positional[0].bare}" in TOOLS:  # `docker login`, not `docker run -p`
        return TOOLS[f"{name}/{positional[0].bare}"], args
    if len(positional) > 1 and f"{name}/{positional[1].bare}" in TOOLS:
        # A global option's value before the subcommand: `aws --region eu-west-1 ssm ...`,
        # `rclone --config FILE config create ...` (its arguments start at the subcommand).
        at = args.index(positional[0])
        if at and args[at - 1].bare.startswith("-") and "=" not in args[at - 1].bare:
            return TOOLS[f"{name}/{positional[1].bare}"], args[at + 1 :]
    tool = TOOLS.get(name)
    return (tool, args) if tool else None


def _after(word: _Word, offset: int) -> tuple[int, int]:
    """The span of `word`'s text from `offset` (> 0) on, less the closing quote of a wholly quoted
    word: the password of `'admin%PW'` is `PW`, of `admin%'PW'` it is `'PW'` (quotes kept)."""
    quoted = len(word.text) > 1 and word.text[0] in "'\"" and word.text.endswith(word.text[0])
    return word.start + offset, word.end - (1 if quoted else 0)


def _spans(tool: Tool, args: list[_Word]) -> Iterator[tuple[int, int]]:
    """Spans of the line that hold the password, per the tool's rules (literal or not)."""
    positional: list[_Word] = []
    batch = False
    required = not tool.requires or any(w.bare.rpartition("=")[2] == tool.requires for w in args)
    for i, word in enumerate(args):
        bare, nxt = word.bare, args[i + 1] if i + 1 < len(args) else None
        if nxt is not None and required and (bare in tool.options or bare in tool.keywords):
            yield nxt.start, nxt.end
        name, eq, _ = bare.partition("=")
        if eq and required and name.startswith("--") and name in tool.options:  # `--value=PW`
            yield _after(word, word.text.index("=") + 1)
        for opt in tool.attached:
            if bare.startswith(opt) and len(bare) > len(opt):
                yield _after(word, word.text.find(opt) + len(opt))
        for opt in tool.user_options:
            value = nxt if bare == opt else None
            if value is None and bare.startswith(opt) and len(bare) > len(opt):
                value = word  # `-Uadmin%PW` or `--user=admin%PW`
            if value is not None and tool.separator in value.text:
                yield _after(value, value.text.index(tool.separator) + 1)
        for prefix in tool.prefixes:
            at = word.text.find(prefix)
            if at != -1 and word.text[:at].strip("'\"") == "":
                yield _after(word, at + len(prefix))
        if tool.batch_flag and re.fullmatch(rf"-[A-Za-z]*{tool.batch_flag}[A-Za-z]*", bare):
            batch = True
        if not bare.startswith("-") and not (i and args[i - 1].bare in tool.value_options):
            positional.append(word)
    if batch and positional or tool.last and len(positional) > 1:
        yield positional[-1].start, positional[-1].end
    if tool.after_word and required:
        words = [w.bare for w in positional]
        if tool.after_word in words:
            at = words.index(tool.after_word) + tool.after_offset
            if at < len(positional):
                yield positional[at].start, positional[at].end
    # `vault login -method=userpass username=u`: a `name=value` word is a setting, not the password.
    if 0 <= tool.positional < len(positional) and not _ASSIGNMENT.match(positional[tool.positional].bare):
        yield positional[tool.positional].start, positional[tool.positional].end
    if tool.named_values:
        for verb, name, value in zip(positional, positional[1:], positional[2:], strict=False):
            # `config NAME VALUE` or `set NAME VALUE` (not `git checkout token fix`); the setting's
            # own name is the last part of a dotted, colon or slash path.
            setting = _SETTING.fullmatch(name.bare)  # a plain name, not `"$GITHUB_TOKEN"`
            # composer's `config github-oauth.github.com TOKEN` (and gitlab's, bitbucket's, bearer.HOST)
            # names a host after the kind of token.
            token_host = re.match(
                r"(?:github-oauth|gitlab-oauth|gitlab-token|bitbucket-oauth|bearer)\.", name.bare
            )
            if (
                verb.bare in _SETTERS
                and setting
                and (token_host or is_secret_name(re.split(r"[.:/]", name.bare)[-1]))
            ):
                yield value.start, value.end
    if tool.named_pairs and len(positional) > 2:
        # `config create NAME TYPE k v ...`, `config update|password NAME k v ...`: pairs from there,
        # or `k=v` words (pairing every adjacent word took a value's neighbour for its name).
        first = 4 if positional[1].bare == "create" else 3
        settings = positional[first:]
        pairs = [(w.bare.partition("=")[0], w, w.text.index("=") + 1) for w in settings if "=" in w.bare]
        if not pairs:
            pairs = [(n.bare, v, 0) for n, v in zip(settings[::2], settings[1::2], strict=False)]
        for key, word, offset in pairs:
            value = word.bare[word.bare.find("=") + 1 :] if offset else word.bare
            if is_secret_name(key) or (key.lower().endswith("key") and looks_random(value)):
                yield _after(word, offset) if offset else (word.start, word.end)
    if tool.http_basic and len(positional) >= 4 and positional[1].bare.startswith("http-basic."):
        yield positional[3].start, positional[3].end
    if tool.ini_setter:
        for i, word in enumerate(args):
            if word.bare == "--set":  # --set [--existing ...] FILE SECTION NAME VALUE
                rest: list[_Word] = []
                for w in args[i + 1 : i + 12]:  # a few words on: many `--set`s stay linear
                    if not w.bare.startswith("-"):
                        rest.append(w)
                if len(rest) >= 4 and is_secret_name(rest[2].bare):
                    yield rest[3].start, rest[3].end
    if tool.user_slash and positional:
        first = positional[0]
        user, slash, rest = first.bare.partition("/")
        if slash and user and rest:
            start = first.start + first.text.index("/") + 1
            at = first.text.find("@", start - first.start)
            yield (start, first.start + at) if at != -1 else _after(first, start - first.start)


def scrub_commands(text: str, counts: Counter[str]) -> str:
    """Replace the literal passwords that lines of `text` pass to the tools of TOOLS; counted as cli-password."""
    lines = _hinted_lines(text)
    if not lines:
        return text
    pieces: list[str] = []
    last = 0
    for start, end in lines:
        line = text[start:end]
        pieces += [text[last:start], _scrub_line(line, counts)]
        last = end
    pieces.append(text[last:])
    return "".join(pieces)


def _hinted_lines(text: str) -> list[tuple[int, int]]:
    """The lines where a tool's name stands as a word.

    Splitting into words and meeting the set of names is C-speed; a regex
    alternation of the names took a third of scrub's time, trying every
    position of the text.
    """
    spans: dict[int, int] = {}
    for name in set(_WORDS.split(text)) & _TOOL_NAMES:
        i = text.find(name)
        while i != -1:
            after = i + len(name)
            if (i == 0 or text[i - 1] in _AROUND_NAME) and (
                after == len(text) or text[after] in _AROUND_NAME
            ):
                start, end = text.rfind("\n", 0, i) + 1, text.find("\n", after)
                while end > 0 and text[end - 1] == "\\":  # a command continued on the next lines
                    end = text.find("\n", end + 1)
                end = len(text) if end == -1 else end
                spans[start] = max(spans.get(start, 0), end)
                after = max(after, end)  # the rest of this span is read already: linear, not quadratic
            i = text.find(name, after)
    # A continued command's span covers the lines after it, which may hold a tool's name too.
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans.items()):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


# A command substitution inside double quotes is one word to the splitter: `-p "$(openssl passwd PW)"`.
_QUOTED_SUBSTITUTION = re.compile(r"\$\(([^()\n]*)\)")


def _scrub_line(line: str, counts: Counter[str]) -> str:
    found = set(_password_spans(line))
    for m in _QUOTED_SUBSTITUTION.finditer(line):
        found.update(_password_spans(m.group(1), m.start(1)))
    return _replace(line, sorted(found), counts)


def _password_spans(text: str, offset: int = 0) -> Iterator[tuple[int, int]]:
    """Spans of `text` (shifted by `offset`) where its commands take a password, literal or not."""
    for words in _commands(text):
        hit = _tool_of(words)
        if hit is not None:
            for start, end in _spans(*hit):
                yield start + offset, end + offset


def _replace(line: str, spans: Iterable[tuple[int, int]], counts: Counter[str]) -> str:
    out: list[str] = []
    last = 0
    for start, end in spans:
        value = line[start:end]
        if start < last or not is_literal_value(value) or value.startswith(("env:", "file:", "fd:")):
            continue
        out += [line[last:start], replace_value(value, "password")]
        counts[KIND] += 1
        last = end
    out.append(line[last:])
    return "".join(out)

"""Yelp's detect-secrets plugins, run over a script after the bash rules: key formats, keywords, entropy.

Owns the bridge to detect-secrets: which plugins run on which lines, how a
finding becomes a span of the text, and which findings are code rather than
secrets. The plugins are used as a library (`analyze_string` and their
`denylist` patterns, with detect-secrets' own heuristic filters); its
scanning machinery is not, because it reads files, keeps global settings and
may verify secrets over the network.

On 82 MB of real scripts (bench/scrub_corpus.py) the entropy plugins alone
flagged ~210 strings and not one secret (checksums, commits, serial numbers,
alphabets, gzip payloads), and the keyword plugin alone flagged `pwd=$(pwd)`
written with backquotes and `"secretName": "router-certs"`. So a keyword or entropy finding counts
only when a secret name (secret_values.holds_secret) is assigned or compared
to it, or, for entropy, when its line mentions a secret and no other name
holds it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
from detect_secrets.filters import heuristic
from detect_secrets.plugins.base import BasePlugin, RegexBasedDetector
from detect_secrets.plugins.high_entropy_strings import HighEntropyStringsPlugin
from detect_secrets.plugins.ip_public import IPPublicDetector
from detect_secrets.plugins.keyword import KeywordDetector
from detect_secrets.plugins.private_key import PrivateKeyDetector

from bashcoder.trainer.collect.secret_values import (
    PLACEHOLDER_PREFIX,
    holds_secret,
    is_literal_value,
    is_secret_name,
    placeholder,
)

# Private keys are removed as whole blocks before (the plugin names only the BEGIN line);
# a public IP address is not a credential.
_SKIPPED = (PrivateKeyDetector, IPPublicDetector)
_PLUGINS: tuple[BasePlugin, ...] = tuple(
    cls() for cls in get_mapping_from_secret_type_to_class().values() if not issubclass(cls, _SKIPPED)
)
_FORMATS = tuple(p for p in _PLUGINS if isinstance(p, RegexBasedDetector))
_ENTROPY: tuple[HighEntropyStringsPlugin, ...] = tuple(
    p for p in _PLUGINS if isinstance(p, HighEntropyStringsPlugin)
)
_KEYWORD = tuple(p for p in _PLUGINS if isinstance(p, KeywordDetector))


def kind_of(plugin: BasePlugin) -> str:
    """The count key of a plugin's findings: "Slack Token" -> "slack-token"."""
    return re.sub(r"[^a-z0-9]+", "-", plugin.secret_type.lower()).strip("-")


# Every key format these plugins know has a run of 10+ letters and digits mixing both
# (measured: 1.5% of lines have one), so only those lines are scanned.
_RUN = re.compile(r"[A-Za-z0-9]{10,}")
# Lines that mention a secret, found with str.find on the lowered text: a case-insensitive
# regex alternation of these took ~20x longer on the corpus.
_STEMS = ("key", "pass", "pwd", "secret", "token", "auth", "credential", "contrase")
# The characters a token is made of; a finding is widened or cut to one such run.
_TOKEN = re.compile(r"[A-Za-z0-9_\-+/.~]+=*")
_TOKEN_TAIL = re.compile(r"[A-Za-z0-9_\-]*")
# A name assigned or compared to a quoted value just after it: `password = "`, `"apiKey": "`, `$PW" == "`.
_OPERATOR = r"[\"'\]]*\s*(?:=|:|:=|==|!=|=>|===|!==)\s*@?"
_NAMED = re.compile(r"([A-Za-z_][\w.-]*)" + _OPERATOR + "$")
# From a name's start only, and names of at most 128 characters: tried at every position of a
# long run of word characters, it was quadratic (20 s for a 20 KB line).
_NAMED_QUOTE = re.compile(r"(?<![\w.-])([A-Za-z_][\w.-]{0,127})" + _OPERATOR + "['\"]")


def scrub_detected(text: str, lowered: str, counts: Counter[str]) -> str:
    """Replace what the detect-secrets plugins find in `text` (`lowered`: its ASCII lower-case twin)."""
    runs = set(_lines_with_runs(text))
    stems = set(_lines_with_stems(lowered))
    named = {span for span in stems if _names_a_quoted_secret(text[span[0] : span[1]])}
    pieces: list[str] = []
    last = 0
    for span in sorted(runs | named):
        line = text[span[0] : span[1]]
        found = list(_format_spans(line)) if span in runs else []
        found += _keyword_spans(line) if span in named else []
        found += _entropy_spans(line) if span in stems and span in runs else []
        pieces += [text[last : span[0]], _replace(line, found, counts)]
        last = span[1]
    pieces.append(text[last:])
    return "".join(pieces)


def _names_a_quoted_secret(line: str) -> bool:
    """Whether a secret name is assigned or compared to a quoted value on the line: the only
    keyword findings that count, and a cheap test where the keyword plugin's regexes are not."""
    return any(is_secret_name(m.group(1).rsplit(".", 1)[-1]) for m in _NAMED_QUOTE.finditer(line))


def _lines_with_runs(text: str) -> Iterator[tuple[int, int]]:
    # findall builds no match objects, and most texts have no mixed run at all.
    for run in {r for r in _RUN.findall(text) if not r.isalpha() and not r.isdigit()}:
        i = text.find(run)
        while i != -1:
            span = _line_of(text, i)
            yield span
            i = text.find(run, span[1])


def _lines_with_stems(lowered: str) -> Iterator[tuple[int, int]]:
    for stem in _STEMS:
        i = lowered.find(stem)
        while i != -1:
            span = _line_of(lowered, i)
            yield span
            i = lowered.find(stem, span[1])


def _line_of(text: str, i: int) -> tuple[int, int]:
    end = text.find("\n", i)
    return text.rfind("\n", 0, i) + 1, len(text) if end == -1 else end


def _format_spans(line: str) -> Iterator[tuple[int, int, BasePlugin]]:
    """Key formats: each regex match of a plugin, narrowed to the token it names."""
    for plugin in _FORMATS:
        for regex in plugin.denylist:
            for m in regex.finditer(line):
                # detect-secrets reports a match's groups when it has some (`ghp` of a GitHub
                # token, the 40 characters of an AWS secret), else the whole match.
                groups = [i for i in range(1, (m.re.groups or 0) + 1) if m.group(i)] or [0]
                for g in groups:
                    span = _token_in(line, m.start(g), m.end(g))
                    if span is not None:
                        yield (*span, plugin)


def _token_in(line: str, start: int, end: int) -> tuple[int, int] | None:
    """The longest token run inside [start, end), widened over the token's tail: `ghp` -> `ghp_...`."""
    runs = list(_TOKEN.finditer(line, start, end))
    if not runs:
        return None
    best = max(runs, key=lambda m: m.end() - m.start())
    tail = _TOKEN_TAIL.match(line, best.end())
    return best.start(), tail.end() if tail else best.end()


def _keyword_spans(line: str) -> list[tuple[int, int, BasePlugin]]:
    """Secret keywords: a quoted literal that a secret name is assigned or compared to."""
    found = []
    for plugin in _KEYWORD:
        for value in plugin.analyze_string(line):
            found += [(s, e, plugin) for s, e in _quoted(line, value) if _name_before(line, s, value) is True]
    return found


def _entropy_spans(line: str) -> list[tuple[int, int, BasePlugin]]:
    """High-entropy quoted strings on a line that mentions a secret, unless a plain name holds them."""
    found = []
    for plugin in _ENTROPY:
        for value in plugin.analyze_string(line):
            # A string that spells out a secret word describes one: 'bedrock-api-key-YmVk...' is a pattern.
            if plugin.calculate_shannon_entropy(value) <= plugin.entropy_limit or _spells_a_stem(value):
                continue
            if _public_id(line, value) or public_key_file(line):
                continue
            found += [
                (s, e, plugin) for s, e in _quoted(line, value) if _name_before(line, s, value) is not False
            ]
    return found


_KEY_ID = re.compile(r"[0-9A-Fa-f]{8}|[0-9A-Fa-f]{16}|[0-9A-Fa-f]{40}")
_GPG_CONTEXT = re.compile(r"gpg|keyserver|recv-keys?|signingkey|apt-key|fingerprint", re.I)
_S3_OBJECT_KEY = re.compile(r"s3api\b.*--key[ =]['\"]?$")


def _public_id(line: str, value: str) -> bool:
    """A GPG key's id or fingerprint on a gpg line (`--recv-keys "C99B11DEB97541F0"`, `for key in
    "FPR"; do gpg ...`), or an S3 object's key after s3api's --key: public, though next to "key"."""
    if _KEY_ID.fullmatch(value) and _GPG_CONTEXT.search(line):
        return True
    at = line.find(value)
    return at > 0 and _S3_OBJECT_KEY.search(line[:at]) is not None


# A redirection's target; its base name says whether it is a public key's file.
_TARGET = re.compile(r"(?<!>)>>?[ \t]*['\"]?([^\s'\">;|&]+)")
_PUBLIC_BASE = re.compile(r"\.pub$|(?:^|[_.-])public(?:[_.-]?key)?(?:[_.-]|$)|^publickey|^pubkey")


def public_key_file(line: str) -> bool:
    """Whether `line` writes to a public key's file (`peer1_public.key`, `id_ed25519.pub`,
    `publickey`), by its base name, and not one that says secret, token or private."""
    for m in _TARGET.finditer(line):
        base = m.group(1).rsplit("/", 1)[-1].lower()
        if _PUBLIC_BASE.search(base) and not re.search(r"secret|token|private|passw", base):
            return True
    return False


def _spells_a_stem(value: str) -> bool:
    low = value.lower()
    return any(stem in low for stem in _STEMS)


def _quoted(line: str, value: str) -> Iterator[tuple[int, int]]:
    """Spans of `value` inside single or double quotes (backquotes run a command: `pwd`)."""
    for m in re.finditer(r"(['\"])" + re.escape(value) + r"\1", line):
        yield m.start() + 1, m.end() - 1


def _name_before(line: str, value_start: int, value: str) -> bool | None:
    """Whether the name just before a quoted value holds it as a secret; None when no name precedes it."""
    m = _NAMED.search(line, 0, value_start - 1)
    return None if m is None else holds_secret(m.group(1).rsplit(".", 1)[-1], value)


def _ignored(value: str, line: str, plugin: BasePlugin) -> bool:
    """detect-secrets' own heuristic filters, and ours for expansions, metavars and placeholders."""
    return (
        PLACEHOLDER_PREFIX in value
        or not is_literal_value(value)
        or heuristic.is_sequential_string(value)
        or heuristic.is_potential_uuid(value)
        or heuristic.is_templated_secret(value)
        or heuristic.is_prefixed_with_dollar_sign(value)
        or heuristic.is_not_alphanumeric_string(value)
        or heuristic.is_likely_id_string(value, line, plugin)
        or heuristic.is_indirect_reference(line)
    )


def _replace(line: str, found: list[tuple[int, int, BasePlugin]], counts: Counter[str]) -> str:
    out: list[str] = []
    last = 0
    for start, end, plugin in sorted(found, key=lambda f: (f[0], -f[1])):
        value = line[start:end]
        if start < last or _ignored(value, line, plugin):
            continue
        kind = kind_of(plugin)
        out += [line[last:start], placeholder(kind)]
        counts[kind] += 1
        last = end
    out.append(line[last:])
    return "".join(out)

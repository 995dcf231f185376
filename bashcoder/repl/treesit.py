"""The gate's second reader: tree-sitter-bash finds the commands, `bashlex` reads their words.

tree-sitter-bash knows where bash's constructs end better than the hand
lexer does: a here-document inside `$(...)` whose body holds a quote
(`x=$(cat <<EOF` / `it's` / `EOF` / `)`) derails the hand lexer's bracket
matching, and everything after it goes unread; tree-sitter reads on. Its
words are then read by `bashlex` (quote removal, `$'...'`, brace expansion),
which tree-sitter does not do. tree-sitter-bash also rejects some valid bash
(about 3% of real scripts, see engine/syntax.py): a tree with an error gives
None, and the gate relies on the hand lexer alone for that text.
"""

from __future__ import annotations

from functools import lru_cache

from tree_sitter import Language, Node, Parser

from bashcoder.repl.bashlex import Command, Word, read_word, read_words

_SUBSTITUTIONS = ("command_substitution", "process_substitution")
_REDIRECTS = ("file_redirect", "heredoc_redirect", "herestring_redirect")


@lru_cache(maxsize=1)
def _parser() -> Parser:
    import tree_sitter_bash

    return Parser(Language(tree_sitter_bash.language()))


def read(text: str) -> list[Command] | None:
    """The simple commands of `text` in order, as `bashlex.parse` gives them; None if tree-sitter cannot parse it."""
    source = text.encode("utf-8", errors="surrogatepass")
    tree = _parser().parse(source)
    if tree.root_node.has_error:
        return None
    reader = _Reader(source)
    reader.statements(tree.root_node)
    return reader.out


class _Reader:
    def __init__(self, source: bytes) -> None:
        self.source = source
        self.out: list[Command] = []

    def text(self, node: Node) -> str:
        return self.source[node.start_byte : node.end_byte].decode("utf-8", errors="surrogatepass")

    def subs(self, node: Node) -> list[str]:
        """Scripts of the outermost substitutions inside `node` (nested ones are read when those are)."""
        if node.type in _SUBSTITUTIONS:
            inner = [c for c in node.children if c.is_named]
            if not inner:
                return []
            return [self.source[inner[0].start_byte : inner[-1].end_byte].decode("utf-8", "surrogatepass")]
        return [s for child in node.children for s in self.subs(child)]

    def statements(self, node: Node) -> None:
        """Emit the commands under `node` in document order."""
        kind = node.type
        if kind == "command":
            self.command(node)
        elif kind == "redirected_statement":
            self.redirected(node)
        elif kind == "pipeline":
            self.pipeline(node)
        elif kind in _SUBSTITUTIONS:  # outside a command: `x=$(...)`, `for i in $(...)`, `[[ $(...) ]]`
            self.out.append(Command([Word(self.text(node), self.subs(node))]))
        else:
            for child in node.named_children:
                self.statements(child)

    def words(self, node: Node) -> list[Word]:
        if node.type == "process_substitution":
            return [Word(self.text(node), self.subs(node))]
        words, _ = read_words(self.text(node), 0)
        for w in words:
            w.subs = []
        words[0].subs = self.subs(node)
        return words

    def command(self, node: Node) -> None:
        cmd = Command()
        self.out.append(cmd)
        for child in node.named_children:
            if child.type in _REDIRECTS:
                self.redirect(child, cmd)
            elif child.type == "variable_assignment":
                word, _ = read_word(self.text(child), 0)
                cmd.words.append(Word(word.text, self.subs(child)))
            else:
                cmd.words += self.words(child)

    def redirected(self, node: Node) -> None:
        body = node.child_by_field_name("body")
        before = len(self.out)
        if body is not None:
            self.statements(body)
        if body is not None and body.type == "command" and len(self.out) > before:
            target = self.out[before]
        else:
            target = Command()  # a compound's redirections: `{ ...; } > /dev/sda`
            self.out.append(target)
        for child in node.named_children:
            if child.type in _REDIRECTS:
                self.redirect(child, target)

    def pipeline(self, node: Node) -> None:
        parts = node.named_children
        for i, child in enumerate(parts):
            before = len(self.out)
            self.statements(child)
            if i < len(parts) - 1 and len(self.out) > before:
                self.out[-1].pipe_next = True

    def redirect(self, node: Node, cmd: Command) -> None:
        if node.type == "heredoc_redirect":
            self.heredoc(node, cmd)
            return
        named = node.named_children
        target = named[-1] if named else None
        if target is None:
            return
        if node.type == "herestring_redirect":
            word = self.words(target)[0]
            cmd.redirs.append(("<<<", word))
            cmd.stdin = word.text + "\n"
            return
        op = "".join(self.text(c) for c in node.children if c.type == "file_descriptor" or not c.is_named)
        cmd.redirs.append((op, self.words(target)[0]))

    def heredoc(self, node: Node, cmd: Command) -> None:
        """The body becomes the command's stdin; what follows the delimiter on its line is read too."""
        start = next((c for c in node.children if c.type == "heredoc_start"), None)
        body = next((c for c in node.children if c.type == "heredoc_body"), None)
        delimiter = self.text(start) if start is not None else ""
        quoted = any(q in delimiter for q in "'\"\\")
        text = self.text(body) if body is not None else ""
        if any(c.type == "<<-" for c in node.children):
            text = "".join(line.lstrip("\t") for line in text.splitlines(keepends=True))
        cmd.stdin = text
        subs = self.subs(body) if body is not None and not quoted else []
        cmd.redirs.append(("<<", Word(delimiter.strip("'\"\\"), subs)))
        # tree-sitter hangs the rest of the delimiter's line under the here-document: `cat <<EOF | sh`
        previous = ""
        for child in node.children:
            if child.type in ("heredoc_start", "heredoc_body", "heredoc_end"):
                continue
            if not child.is_named:
                previous = child.type
            elif child.type in _REDIRECTS:
                self.redirect(child, cmd)
            else:
                first = child.children[0].type if child.children else ""
                if previous in ("|", "|&") or first in ("|", "|&"):
                    cmd.pipe_next = True
                self.statements(child)

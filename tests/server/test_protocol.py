"""The server's patch of pygls internals (server/protocol.py) still fits the installed pygls.

If a pygls upgrade renames or removes what the patch overrides or calls, this
fails with the name, instead of the server silently losing its invalid-params
answers or keeping a second copy of every document.
"""

from __future__ import annotations

import inspect

from pygls.protocol import LanguageServerProtocol

from bashcoder.server.protocol import PATCHED_METHODS, BashcoderProtocol


def test_every_overridden_pygls_method_still_exists_with_the_same_parameters() -> None:
    for name in PATCHED_METHODS:
        theirs = getattr(LanguageServerProtocol, name, None)
        assert theirs is not None, (
            f"pygls no longer has LanguageServerProtocol.{name}: revisit server/protocol.py"
        )
        ours = getattr(BashcoderProtocol, name)
        assert list(inspect.signature(theirs).parameters) == list(inspect.signature(ours).parameters), name


def test_the_pygls_internals_the_patch_calls_still_exist() -> None:
    from bashcoder.server.server import build_server

    assert callable(getattr(LanguageServerProtocol, "_send_response", None)), "pygls renamed _send_response"
    assert callable(getattr(LanguageServerProtocol, "_send_data", None)), "pygls renamed _send_data"
    protocol = build_server().protocol
    assert isinstance(protocol, BashcoderProtocol)
    features = protocol.fm.features  # where the patch finds the user's handlers
    assert "textDocument/didOpen" in features and "textDocument/didChange" in features
    assert protocol._shutdown is False  # cli/lsp.py's exit status reads it

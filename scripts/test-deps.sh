#!/usr/bin/env bash
# System packages the test suite uses, installed from Debian when missing:
# tmux (REPL terminal test), shellcheck (eval findings), git, xz and zstd
# (compression baselines), dpkg-dev (the collector's .deb fixtures).
set -euo pipefail
need=()
command -v tmux >/dev/null || need+=(tmux)
command -v shellcheck >/dev/null || need+=(shellcheck)
command -v git >/dev/null || need+=(git)
command -v xz >/dev/null || need+=(xz-utils)
command -v zstd >/dev/null || need+=(zstd)
command -v dpkg-deb >/dev/null || need+=(dpkg)
[ "${#need[@]}" -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "warning: missing ${need[*]}; install them (tests that need them will skip)" >&2
    exit 0
fi
echo "installing ${need[*]} from Debian" >&2
apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null

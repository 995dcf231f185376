#!/usr/bin/env bash
#
# backup_rotate.sh - snapshot directories with rsync hard links and prune old snapshots.
#
# Usage: backup_rotate.sh [-n] [-k KEEP] [-e EXCLUDE_FILE] [-l LOG] SOURCE... DEST
#
#   -n              dry run: print what would happen, change nothing
#   -k KEEP         number of daily snapshots to keep (default: 14)
#   -e FILE         rsync exclude patterns, one per line
#   -l LOG          append the log to this file as well as stderr
#   -h              show this help
#
# Each run creates DEST/YYYY-mm-dd_HHMMSS, hard-linking unchanged files against
# the previous snapshot (DEST/latest), then repoints DEST/latest at it.

set -euo pipefail
IFS=$'\n\t'

readonly PROG=${0##*/}
readonly LOCK_FILE=${TMPDIR:-/tmp}/${PROG%.sh}.lock
KEEP=14
DRY_RUN=0
EXCLUDE_FILE=""
LOG_FILE=""
START_TIME=$(date +%s)

usage() {
    sed -n '3,14p' "$0" | sed 's/^# \{0,1\}//'
}

log() {
    local level=$1
    shift
    local line
    line="$(date '+%Y-%m-%d %H:%M:%S') [$level] $*"
    echo "$line" >&2
    if [[ -n $LOG_FILE ]]; then
        echo "$line" >>"$LOG_FILE"
    fi
}

die() {
    log ERROR "$*"
    exit 1
}

run() {
    if ((DRY_RUN)); then
        log INFO "dry run: $*"
    else
        "$@"
    fi
}

cleanup() {
    local status=$?
    rm -f "$LOCK_FILE"
    if ((status != 0)); then
        log ERROR "backup failed with status $status"
    fi
    exit "$status"
}

require() {
    local cmd
    for cmd in "$@"; do
        command -v "$cmd" >/dev/null 2>&1 || die "missing command: $cmd"
    done
}

human_size() {
    local bytes=$1
    local units=(B KiB MiB GiB TiB)
    local i=0
    while ((bytes >= 1024 && i < ${#units[@]} - 1)); do
        bytes=$((bytes / 1024))
        i=$((i + 1))
    done
    printf '%d %s\n' "$bytes" "${units[$i]}"
}

parse_args() {
    local opt
    while getopts ":nk:e:l:h" opt; do
        case $opt in
            n) DRY_RUN=1 ;;
            k) KEEP=$OPTARG ;;
            e) EXCLUDE_FILE=$OPTARG ;;
            l) LOG_FILE=$OPTARG ;;
            h)
                usage
                exit 0
                ;;
            :) die "option -$OPTARG needs a value" ;;
            *) die "unknown option -$OPTARG (see -h)" ;;
        esac
    done
    shift $((OPTIND - 1))
    if (($# < 2)); then
        usage >&2
        exit 2
    fi
    SOURCES=("${@:1:$#-1}")
    DEST=${!#}
    [[ $KEEP =~ ^[0-9]+$ ]] || die "KEEP must be a number, got '$KEEP'"
    if [[ -n $EXCLUDE_FILE && ! -r $EXCLUDE_FILE ]]; then
        die "cannot read exclude file $EXCLUDE_FILE"
    fi
}

acquire_lock() {
    if [[ -e $LOCK_FILE ]]; then
        local pid
        pid=$(<"$LOCK_FILE")
        if kill -0 "$pid" 2>/dev/null; then
            die "another backup is running (pid $pid)"
        fi
        log WARN "removing stale lock of pid $pid"
    fi
    echo $$ >"$LOCK_FILE"
}

check_space() {
    local dest=$1
    local free_kb
    free_kb=$(df -Pk "$dest" | awk 'NR == 2 { print $4 }')
    if ((free_kb < 1048576)); then
        log WARN "less than 1 GiB free on $dest"
    fi
}

snapshot() {
    local dest=$1
    shift
    local stamp target
    stamp=$(date +%Y-%m-%d_%H%M%S)
    target="$dest/$stamp"
    local -a opts=(--archive --hard-links --delete --numeric-ids --one-file-system)
    if [[ -d $dest/latest ]]; then
        opts+=(--link-dest="$dest/latest")
    fi
    if [[ -n $EXCLUDE_FILE ]]; then
        opts+=(--exclude-from="$EXCLUDE_FILE")
    fi
    ((DRY_RUN)) && opts+=(--dry-run)
    log INFO "snapshot $* -> $target"
    run mkdir -p "$target"
    local src
    for src in "$@"; do
        [[ -d $src ]] || die "source is not a directory: $src"
        run rsync "${opts[@]}" "$src" "$target/" || die "rsync failed for $src"
    done
    run ln -sfn "$stamp" "$dest/latest"
    echo "$target"
}

prune() {
    local dest=$1 keep=$2
    local -a snapshots
    mapfile -t snapshots < <(find "$dest" -mindepth 1 -maxdepth 1 -type d -name '20*' | sort)
    local count=${#snapshots[@]}
    if ((count <= keep)); then
        log INFO "$count snapshots, nothing to prune"
        return 0
    fi
    local old
    for old in "${snapshots[@]:0:count-keep}"; do
        log INFO "pruning $old"
        run rm -rf -- "$old"
    done
}

report() {
    local target=$1
    local elapsed=$(($(date +%s) - START_TIME))
    local size
    size=$(du -sb "$target" 2>/dev/null | cut -f1)
    log INFO "done in ${elapsed}s, snapshot size $(human_size "${size:-0}")"
}

main() {
    parse_args "$@"
    require rsync find du df awk
    trap cleanup EXIT
    trap 'die "interrupted"' INT TERM
    acquire_lock
    run mkdir -p "$DEST"
    check_space "$DEST"
    local target
    target=$(snapshot "$DEST" "${SOURCES[@]}")
    prune "$DEST" "$KEEP"
    if ((!DRY_RUN)); then
        report "$target"
    fi
}

main "$@"

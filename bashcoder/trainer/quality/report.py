"""Show an EvalReport: a table for people, JSON for tools, a PNG to look at."""

from __future__ import annotations

from pathlib import Path

from bashcoder.trainer.quality.run import EvalReport


def _pct(x: float) -> str:
    return f"{100 * x:5.1f}%"


def _fim_label(r: EvalReport) -> str:
    return "with suffix (reranked)" if r.fim_reranked else "with suffix (FIM)"


def table(r: EvalReport) -> str:
    lines = [
        f"model: {r.model}",
        f"texts: {r.texts} ({r.documents} documents, {r.bytes / 1e6:.2f} MB)",
        f"hardware: {r.hardware.get('device', '?')}",
        "",
        f"{'bits per byte':28} {r.bpb:6.3f}  (sliding windows, stride {r.bpb_stride} tokens)",
    ]
    for name, value in r.baselines.items():
        shown = f"{value:6.3f}" if value is not None else "   n/a"
        ratio = f"  (model = {r.bpb / value:.2f}x)" if value else ""
        lines.append(f"{'  ' + name + ' bits per byte':28} {shown}{ratio}")
    lines.append("")
    lines.append(f"{'next line':28} {'exact':>7} {'edit sim':>9} {'bash -n':>8} {'probes':>7}")
    for mode, s in r.modes.items():
        label = "prefix only" if mode == "prefix" else _fim_label(r)
        lines.append(
            f"{'  ' + label:28} {_pct(s.exact_match):>7} {_pct(s.edit_similarity):>9} {_pct(s.syntax_pass):>8} {s.probes:7d}"
        )
    lines.append("")
    lines.append(
        f"{'mid-line (cursor after a word)':28} {'word':>7} {'rest':>9} {'edit sim':>8} {'probes':>7}"
    )
    for mode, m in r.midline.items():
        label = "prefix only" if mode == "prefix" else _fim_label(r)
        lines.append(
            f"{'  ' + label:28} {_pct(m.next_word):>7} {_pct(m.rest_exact):>9} {_pct(m.edit_similarity):>8} {m.probes:7d}"
        )
    if r.by_source:
        lines += ["", _source_table(r)]
    if r.shellcheck_added_per_completion is not None:
        lines.append("")
        lines.append(
            f"{'shellcheck findings added':28} {r.shellcheck_added_per_completion:6.3f} per completion "
            f"({r.shellcheck_checked} checked)"
        )
    else:
        lines.append("\nshellcheck: not installed, findings not measured")
    return "\n".join(lines)


def _source_table(r: EvalReport) -> str:
    """One row per corpus source: bytes, bpb (and its ratio to xz), line-start and mid-line scores."""
    head = (
        f"{'by source':10} {'MB':>6} {'bpb':>6} {'/xz':>5} {'line exact':>11} {'FIM exact':>10} "
        f"{'FIM bash-n':>11} {'next word':>10} {'rest of line':>13}"
    )
    rows = [head]
    for name, s in r.by_source.items():
        ratio = f"{s.bpb / s.xz_bpb:5.2f}" if s.xz_bpb else "  n/a"
        pre, fim = s.modes.get("prefix"), s.modes.get("fim")
        mid = s.midline.get("prefix")
        rows.append(
            f"{name:10} {s.bytes / 1e6:6.2f} {s.bpb:6.3f} {ratio:>5} "
            f"{_pct(pre.exact_match) if pre and pre.probes else '    -':>11} "
            f"{_pct(fim.exact_match) if fim and fim.probes else '    -':>10} "
            f"{_pct(fim.syntax_pass) if fim and fim.probes else '    -':>11} "
            f"{_pct(mid.next_word) if mid and mid.probes else '    -':>10} "
            f"{_pct(mid.rest_exact) if mid and mid.probes else '    -':>13}"
        )
    return "\n".join(rows) + "\n(mid-line columns: prefix only, as the terminal asks)"


def plot(r: EvalReport, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    names = ["model"] + [k for k, v in r.baselines.items() if v is not None]
    values = [r.bpb] + [v for v in r.baselines.values() if v is not None]
    ax1.bar(names, values, color=["tab:blue"] + ["tab:gray"] * (len(values) - 1))
    ax1.set_ylabel("bits per byte (lower is better)")
    ax1.set_title("Compression of held-out bash")
    for i, v in enumerate(values):
        ax1.text(i, v, f"{v:.2f}", ha="center", va="bottom")
    metrics = ["exact match", "edit similarity", "bash -n pass"]
    width = 0.38
    for j, (mode, s) in enumerate(r.modes.items()):
        vals = [s.exact_match, s.edit_similarity, s.syntax_pass]
        xs = [i + (j - 0.5) * width for i in range(len(metrics))]
        ax2.bar(xs, vals, width, label="prefix only" if mode == "prefix" else _fim_label(r))
    ax2.set_xticks(range(len(metrics)), metrics)
    ax2.set_ylim(0, 1)
    ax2.set_title("Next-line completion")
    ax2.legend()
    fig.suptitle(Path(r.model).name)
    fig.tight_layout()
    path = path if path.suffix else path.with_suffix(".png")  # matplotlib would add it unseen
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path

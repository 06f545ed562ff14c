"""The results table, ratios and targets (printed, and returned for ``results.json``)."""

from typing import Any

TARGETS = {
    "project/dlt": 10.0,  # at least
    "project/raw": 1.5,  # at least
    "p3 rss ratio": 1.25,  # at most
    "p3 rss mb": 512.0,  # below
    "p4 overhead s": 1.5,  # at most
}


def _fmt_row(cells: list[str], widths: list[int]) -> str:
    return "  ".join(
        c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
    )


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [_fmt_row(rows[0], widths), "  ".join("-" * w for w in widths)]
    lines += [_fmt_row(r, widths) for r in rows[1:]]
    return "\n".join(lines)


def _verdict(ok: bool) -> str:
    return "ok" if ok else "MISS"


def print_report(results: dict[str, Any], records: int) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    rows = [["client", "records", "seconds", "records/s", "peak RSS MB", "note"]]
    by_client: dict[str, dict[str, Any]] = {}
    for r in results.get("p1", []):
        by_client[r["client"]] = r
        rss = "" if r.get("peak_rss_mb") is None else f"{r['peak_rss_mb']:,.0f}"
        rows.append(
            [
                r["client"],
                f"{r['records']:,}",
                f"{r['seconds']:.2f}",
                f"{r['records_per_s']:,.0f}",
                rss,
                r["note"],
            ]
        )
    if len(rows) > 1:
        print(f"\nP1: Salesforce Account ({records:,} records, every field) → local Parquet\n")
        print(_table(rows))
    checks = [["check", "measured", "target", ""]]
    proj = by_client.get("appflow_dagster")
    if proj:
        for other, key, label in (("dlt", "project/dlt", "≥ 10x"), ("raw floor", "project/raw", "≥ 1.5x")):
            if other in by_client and by_client[other]["records_per_s"]:
                ratio = proj["records_per_s"] / by_client[other]["records_per_s"]
                summary[key] = round(ratio, 2)
                checks.append(
                    [f"P1 {key} records/s", f"{ratio:.2f}x", label, _verdict(ratio >= TARGETS[key])]
                )
        ceiling = by_client.get("sandbox ceiling")
        if ceiling and ceiling["records_per_s"]:
            frac = proj["records_per_s"] / ceiling["records_per_s"]
            summary["project/ceiling"] = round(frac, 2)
            checks.append(["P1 project / sandbox ceiling", f"{frac:.2f}", "< 1 (sandbox not the limit)", ""])
    small, large = results.get("p3_small"), results.get("p3_large")
    if small and large and small.get("peak_rss_mb") and large.get("peak_rss_mb"):
        ratio = large["peak_rss_mb"] / small["peak_rss_mb"]
        summary["p3 rss ratio"] = round(ratio, 3)
        summary["p3 rss mb"] = large["peak_rss_mb"]
        checks.append(
            [
                f"P3 peak RSS {large['records']:,} / {small['records']:,}",
                f"{large['peak_rss_mb']:.0f} / {small['peak_rss_mb']:.0f} MB = {ratio:.2f}",
                "≤ 1.25",
                # Below a few row groups (64 MB each) the small run has not reached its plateau.
                _verdict(ratio <= TARGETS["p3 rss ratio"])
                if small["records"] >= 500_000
                else "n/a (too small)",
            ]
        )
        checks.append(
            [
                f"P3 peak RSS at {large['records']:,}",
                f"{large['peak_rss_mb']:.0f} MB",
                "< 512 MB",
                _verdict(large["peak_rss_mb"] < TARGETS["p3 rss mb"]),
            ]
        )
        checks.append(
            [
                f"P3 transfer rate at {large['records']:,}",
                f"{large['records_per_s']:,.0f} records/s",
                "",
                "",
            ]
        )
    for size in (small, large):
        timeline = (size or {}).get("extra", {}).get("rss_timeline")
        if timeline:
            points = " ".join(f"{t:.0f}s:{mb:.0f}" for t, mb in timeline)
            checks.append([f"P3 RSS over time at {size['records']:,} (s:MB)", points, "", ""])
    p4 = results.get("p4")
    if p4:
        cold, warm = p4["extra"]["cold"], p4["extra"]["warm"]
        summary["p4 overhead s"] = cold["overhead_s"]
        summary["p4 overhead warm s"] = warm["overhead_s"]
        for name, run in (("first", cold), ("second", warm)):
            checks.append(
                [
                    f"P4 Dagster overhead, {name} run ({run['records']:,} records)",
                    f"{run['wall_s']:.2f} - {run['transfer_s']:.2f} = {run['overhead_s']:.2f} s",
                    "≤ 1.5 s",
                    _verdict(run["overhead_s"] <= TARGETS["p4 overhead s"]),
                ]
            )
        checks.append(
            [
                "P4 (not counted) import + load definitions",
                f"{p4['extra']['import_s'] + p4['extra']['definitions_s']:.2f} s",
                "",
                "",
            ]
        )
    if len(checks) > 1:
        print("\nTargets\n")
        print(_table(checks))
    prof = results.get("profile")
    if prof:
        print(f"\nWhere the project's time goes (cProfile, main thread, {prof['seconds']:.1f} s run)\n")
        rows = [["function", "calls", "own s", "cum s", "share"]]
        rows += [
            [f["function"], f"{f['calls']:,}", f"{f['own_s']:.2f}", f"{f['cum_s']:.2f}", f"{f['share']:.0%}"]
            for f in prof["top"]
        ]
        print(_table(rows))
    summary["targets"] = TARGETS
    return summary

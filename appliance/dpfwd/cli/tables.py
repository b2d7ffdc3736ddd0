"""How counters look on a terminal. Columns come from the counter list
(dpfwd.facts), so a new counter shows up here with no change."""
from .. import facts


def si(value, unit=""):
    for factor, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= factor:
            return f"{value / factor:.2f} {prefix}{unit}"
    return f"{value:.0f} {unit}".rstrip()


def duration(seconds):
    seconds = int(seconds)
    d, rem = divmod(seconds, 86400)
    h, rem = divmod(rem, 3600)
    m, s = divmod(rem, 60)
    return (f"{d}d" if d else "") + (f"{h}h" if d or h else "") + f"{m}m{s:02d}s"


def columns(scope):
    """The counters kept at scope ('port' or 'lcore'), plus 'lost'."""
    return [c.name for c in facts.COUNTERS if c.kept_at(scope)] + ["lost"]


def counters_table(snap):
    """Every counter per port, then per lcore ('-' where a scope does not keep it)."""
    cols = columns("port") + [c for c in columns("lcore") if c not in columns("port")]
    width = max(14, *(len(c) + 2 for c in cols))
    lines = [f"{'port':<6}{'name':<20}" + "".join(f"{c:>{width}}" for c in cols)]
    rows = [("port", str(p["index"]), p["name"], p) for p in snap["ports"]]
    rows += [("lcore", f"lc{lc['lcore']}", "", lc) for lc in snap["lcores"]]
    for scope, ident, name, row in rows:
        kept = set(columns(scope))
        values = [str(facts.lost(row) if c == "lost" else row[c]) if c in kept else "-" for c in cols]
        lines.append(f"{ident:<6}{name[:19]:<20}" + "".join(f"{v:>{width}}" for v in values))
    lines += [f"port {p['index']} {residence_text(p['residence'])}" for p in snap["ports"] if "residence" in p]
    return "\n".join(lines)


def link_text(port):
    """'up 10000 Mb/s', 'DOWN' or 'DOWN (held down: peer ports[0] has no link)',
    from a /dpfwd/ports entry."""
    if port["link_up"]:
        return f"up {port['link_speed_mbps']} Mb/s"
    held = port.get("held_down_by", -1)
    return "DOWN" if held < 0 else f"DOWN (held down: peer ports[{held}] has no link)"


def summary(counters):
    """'rx 10 tx 10 rx_bytes 640 tx_bytes 640 lost 0' for one port; a loss
    names its causes: 'lost 7 (tx_dropped 5, rx_missed 2)'."""
    causes = ", ".join(f"{c.name} {counters[c.name]}" for c in facts.COUNTERS
                       if c.lost and counters.get(c.name))
    return " ".join(f"{c.name} {counters.get(c.name, 0)}" for c in facts.COUNTERS if c.summary) + \
        f" lost {facts.lost(counters)}" + (f" ({causes})" if causes else "")


def residence_text(r):
    """'residence p50 <= 64 ns, p99 <= 1.0 us, max 53.3 us (127520 bursts timed)' for one port."""
    if not r["count"]:
        return "residence: no burst timed yet"

    def t(ns):
        return f"{ns / 1e3:.1f} us" if ns >= 1000 else f"{ns} ns"
    return f"residence p50 <= {t(r['p50_ns'])}, p99 <= {t(r['p99_ns'])}, max {t(r['max_ns'])} " \
        f"({r['count']} bursts timed)"


def xstats_table(ports):
    """The PMD's extended stats per port, the non-zero ones (JSON has all)."""
    lines = []
    for p in ports:
        shown = {k: v for k, v in p["xstats"].items() if v}
        lines.append(f"port {p['index']} {p['name']}: {len(shown)} of {len(p['xstats'])} "
                     "extended stats are non-zero")
        width = max((len(k) for k in shown), default=0) + 2
        lines += [f"  {name:<{width}}{value}" for name, value in sorted(shown.items())]
    return "\n".join(lines)


def rates(prev, cur):
    """Per-port rates of the summary counters and of loss between two
    snapshots, from the data plane's own clock: {index: {name: per second}}."""
    dt = cur["elapsed_seconds"] - prev["elapsed_seconds"]
    before = {p["index"]: p for p in prev["ports"]}
    out = {}
    for p in cur["ports"]:
        b = before.get(p["index"], p)
        out[p["index"]] = {c.name: (p[c.name] - b[c.name]) / dt if dt > 0 else 0.0
                           for c in facts.COUNTERS if c.summary}
        out[p["index"]]["lost"] = (facts.lost(p) - facts.lost(b)) / dt if dt > 0 else 0.0
    return out


def rate_text(counter_name, value):
    """A rate for people: bytes as bit/s, packets as pps."""
    unit = next((c.unit for c in facts.COUNTERS if c.name == counter_name), "packets")
    return si(8 * value, "b/s") if unit == "bytes" else si(value, "pps")

"""Bring up one vpnd <-> vpnd tunnel for bench/throughput/run.

run loads this file for its vpnd case (--with-vpnd); --vpnd-hook FILE or
VPND_BENCH_HOOK points it at another file with the same functions. run
calls up() once per repeat, runs iperf3, then calls down().

Contract with run:

  up(ctx) -> (src, dst)   bring the tunnel up; return the inner addresses
                          iperf3 runs between (src in ctx.a, dst in ctx.b);
                          set ctx.ifnames = (tunnel interface in a, in b)
                          so that run can set and report their MTU;
                          raise ctx.Unavailable("why") if vpnd cannot.
  down(ctx)               optional; stop what up() started. run also closes
                          the namespaces at the end, which kills everything
                          left.

ctx fields: topo, a, b (tests/lib/topo.Router; a initiates), a_if, b_if
(the veth), under_a, under_b (veth addresses, 192.0.2.1/2), inner_a,
inner_b (already on lo in a and b), ts_a, ts_b (the /24s around them),
psk (random, never print it), ike, esp (proposal strings, same as the
strongSwan case), vpnd (binary), vpnd_args (extra vpnd options, from
--vpnd-args), timeout (seconds allowed to pass traffic),
notes (dict: notes["vpnd"] is printed next to the figure), ifnames (set
by up()), ping_ok(router, src, dst).

The MTU is not this file's business: vpnd sets the tunnel's MTU from the
negotiated algorithms when the Child SA is installed, and run then sets
the MTU it was asked for (--mtu) on ctx.ifnames and checks after iperf3
that it stayed.
"""
import time

IFNAME = "vpn-bench"


def conf(ctx, side):
    """vpnd.conf for side 'a' (initiator) or 'b' (responder)."""
    if side == "a":
        local, remote, lts, rts = ctx.under_a, ctx.under_b, ctx.ts_a, ctx.ts_b
        mode = ""
    else:
        local, remote, lts, rts = ctx.under_b, ctx.under_a, ctx.ts_b, ctx.ts_a
        mode = "  connection-mode responder-only\n"
    return f"""vpn
 ike-policy bench-ike
  proposal {ctx.ike}
 exit
 ipsec-policy bench-esp
  proposal {ctx.esp}
 exit
 connection bench
  local-address {local}
  remote-address {remote}
  pre-shared-key {ctx.psk}
  ike-policy bench-ike
  ipsec-policy bench-esp
  interface {IFNAME}
  traffic-selector local {lts} remote {rts}
{mode} exit
exit
"""


def _wait(pred, timeout, interval=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if pred():
                return True
        except Exception:  # noqa: BLE001 - retried until timeout
            pass
        time.sleep(interval)
    return False


def up(ctx):
    """zebra and vpnd in b (responder-only) then a, one connection each
    with the interface IFNAME; wait for IFNAME on both sides, route the
    remote /24 into it with `ip route` from the inner address, wait until
    a ping from inner_a to inner_b passes."""
    for side, r in (("b", ctx.b), ("a", ctx.a)):
        r.start("zebra", "")
        r.start("vpnd", conf(ctx, side),
                extra=getattr(ctx, "vpnd_args", ()))
    for r in (ctx.a, ctx.b):
        if not _wait(lambda r=r: IFNAME in r.exec(["ip", "-o", "link"]),
                     ctx.timeout):
            raise ctx.Unavailable(
                f"vpnd in {r.name} created no interface {IFNAME} within "
                f"{ctx.timeout:.0f}s (log: {r.log_path('vpnd')}; "
                "VPND_KEEP_LOGS=1 keeps it)")
    # IFNAME exists (carrier down) from vpnd's start; the routes into it
    # are plain kernel routes added here, not vpnd's `route` statement
    for r, src, rts in ((ctx.a, ctx.inner_a, ctx.ts_b),
                        (ctx.b, ctx.inner_b, ctx.ts_a)):
        r.exec(["ip", "link", "set", IFNAME, "up"], check=False)
        r.exec(["ip", "route", "replace", rts, "dev", IFNAME, "src", src])
    if not _wait(lambda: ctx.ping_ok(ctx.a, ctx.inner_a, ctx.inner_b),
                 ctx.timeout):
        raise ctx.Unavailable(
            f"no traffic through vpnd within {ctx.timeout:.0f}s "
            f"(logs: {ctx.a.log_path('vpnd')}, {ctx.b.log_path('vpnd')})")
    ctx.ifnames = (IFNAME, IFNAME)
    ctx.notes["vpnd"] = _workers_note(ctx)
    return ctx.inner_a, ctx.inner_b


def _workers_note(ctx):
    """Which datapath workers carry the tunnel on each side."""
    import json
    parts = []
    for r in (ctx.a, ctx.b):
        try:
            sas = json.loads(r.cmd("vpnd", "show vpn sa json"))["ikeSas"]
            s = next(s for s in sas if "txWorker" in s)
            parts.append(f"{r.name}: tx worker {s['txWorker']}, "
                         f"rx worker {s['rxWorker']}")
        except Exception:  # noqa: BLE001 - a note only
            continue
    args = " ".join(getattr(ctx, "vpnd_args", ())) or "default options"
    return f"[{args}] " + "; ".join(parts)


def down(ctx):
    for r in (ctx.a, ctx.b):
        for d in ("vpnd", "zebra"):
            if d in r.daemons:
                r.stop(d)

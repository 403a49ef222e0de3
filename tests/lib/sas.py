"""vpnd's SAs read from `show vpn sa json`, for tests that check behaviour
(rekeys by their SPIs, negotiated algorithms, the absence of an SA) rather
than log lines.

    snap = snapshot(router)        # {connection: ConnSas}
    w = SpiWatch([r1, r2]).start() # polls both routers in a thread
    ... traffic ...
    w.stop()                       # re-raises what the poller hit
    w.assert_rekeys(r1, "peer", child=3, ike=1)

A rekey shows as a new SPI: a Child SA rekey as a new inbound SPI
(childSas[].spiIn) of the connection, an IKE SA rekey as a new IKE SPI
pair (spiInitiator, spiResponder). The SAs present when the watch starts
are the baseline; only SPIs seen after it count. A rekeyed SA is deleted
soon after its replacement is installed, so the SPIs are polled while the
test runs, not read once at the end.

Proposal strings (one proposal, strongSwan keywords) are translated to
the names vpnd shows and to the names strongSwan's vici list-sas gives,
so that a test can assert what was negotiated on both sides.
"""
import json
import threading

from topo import wait_for


def sa_list(r):
    """`show vpn sa json` of router r: its list of IKE SAs."""
    return json.loads(r.cmd("vpnd", "show vpn sa json"))["ikeSas"]


def conn_sas(r, conn):
    """The IKE SAs of one connection (any state)."""
    return [s for s in sa_list(r) if s["connection"] == conn]


def unknown_spi_drops(r):
    """ESP router r dropped for an SPI it has no SA of (all tunnels; read
    from the first IKE SA that has a tunnel). A peer that sends on a
    Child SA before r has installed it shows here."""
    for s in sa_list(r):
        if "dropUnknownSpiGlobal" in s:
            return s["dropUnknownSpiGlobal"]
    raise AssertionError(f"{r.name}: no IKE SA with a tunnel")


def conn_state(r, conn):
    """`show vpn connection CONN json` of router r."""
    return json.loads(r.cmd("vpnd", f"show vpn connection {conn} json"))[
        "connections"][conn]


class ConnSas:
    """What one poll saw of a connection."""

    def __init__(self):
        self.ike = set()        # (spiInitiator, spiResponder), established
        self.ike_any = set()    # the same, any state
        self.child = {}         # spiIn -> spiOut
        self.established = False  # an established IKE SA with a Child SA

    def __repr__(self):
        return (f"ConnSas(ike={sorted(self.ike)}, "
                f"child={sorted(self.child)})")


def snapshot(r):
    """{connection: ConnSas} of router r now."""
    out = {}
    for s in sa_list(r):
        c = out.setdefault(s["connection"], ConnSas())
        pair = (s["spiInitiator"], s["spiResponder"])
        c.ike_any.add(pair)
        if s["state"] == "established":
            c.ike.add(pair)
            if s.get("childSas"):
                c.established = True
        for ch in s.get("childSas", []):
            c.child[ch["spiIn"]] = ch["spiOut"]
    return out


class SpiWatch:
    """Poll `show vpn sa json` of some routers every `interval` seconds in
    a thread; remember every IKE SPI pair and Child SA inbound SPI seen per
    router and connection. The first poll (done in start()) is the
    baseline: initial installs never count as rekeys."""

    def __init__(self, routers, interval=0.2):
        self.routers = list(routers)
        self.interval = interval
        self.base = {}       # router name -> {conn: ConnSas}
        self.seen_child = {}  # (router, conn) -> {spiIn: spiOut}
        self.seen_ike = {}   # (router, conn) -> set of pairs (established)
        self.polls = {}      # (router, conn) -> number of polls it appeared
        self.down = {}       # (router, conn) -> polls without a tunnel
        self.errors = []
        self._stop = threading.Event()
        self._thread = None

    def _poll(self):
        for r in self.routers:
            for conn, c in snapshot(r).items():
                key = (r.name, conn)
                self.seen_child.setdefault(key, {}).update(c.child)
                self.seen_ike.setdefault(key, set()).update(c.ike)
                self.polls[key] = self.polls.get(key, 0) + 1
                if not c.established:
                    self.down[key] = self.down.get(key, 0) + 1

    def _run(self):
        while not self._stop.is_set():
            try:
                self._poll()
            except Exception as e:  # noqa: BLE001 - re-raised by stop()
                self.errors.append(e)
                return
            self._stop.wait(self.interval)

    def start(self):
        self.base = {r.name: snapshot(r) for r in self.routers}
        self._poll()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        """Stop polling (after one last poll); raise what the poller hit."""
        self._stop.set()
        if self._thread:
            self._thread.join(30)
            assert not self._thread.is_alive(), "SA poller did not stop"
        if self.errors:
            raise self.errors[0]
        self._poll()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        if exc[0] is None:
            self.stop()
        else:
            self._stop.set()

    # -- results -------------------------------------------------------
    def new_children(self, r, conn):
        """Inbound SPIs of Child SAs that appeared after the baseline."""
        base = self.base[r.name].get(conn, ConnSas()).child
        return {s: o for s, o in self.seen_child.get((r.name, conn),
                                                      {}).items()
                if s not in base}

    def new_ike(self, r, conn):
        """IKE SPI pairs (established) that appeared after the baseline."""
        base = self.base[r.name].get(conn, ConnSas()).ike_any
        return self.seen_ike.get((r.name, conn), set()) - base

    def assert_rekeys(self, r, conn, child=0, ike=0, continuous=True):
        """At least `child` Child SA rekeys and `ike` IKE SA rekeys of conn
        on router r, seen as new SPIs; with `continuous`, the connection
        had an established IKE SA with a Child SA at every poll (the SAs
        were replaced, not torn down and negotiated again)."""
        base = self.base[r.name].get(conn, ConnSas())
        nc = self.new_children(r, conn)
        ni = self.new_ike(r, conn)
        assert base.established, \
            f"{r.name} {conn}: no established tunnel when the watch began"
        assert len(nc) >= child, \
            f"{r.name} {conn}: {len(nc)} new Child SA SPIs, expected at " \
            f"least {child} rekeys (initial {sorted(base.child)}, new " \
            f"{sorted(nc)})"
        assert len(ni) >= ike, \
            f"{r.name} {conn}: {len(ni)} new IKE SPI pairs, expected at " \
            f"least {ike} IKE rekeys (initial {sorted(base.ike)}, new " \
            f"{sorted(ni)})"
        if continuous:
            key = (r.name, conn)
            assert self.down.get(key, 0) == 0, \
                f"{r.name} {conn}: no established IKE SA with a Child SA " \
                f"in {self.down[key]} of {self.polls[key]} polls"
        return nc, ni


# -- what was negotiated -----------------------------------------------------

# keyword -> (vpnd's name, strongSwan's name, key size strongSwan shows)
ENCR = {
    "aes128": ("aes128", "AES_CBC", "128"),
    "aes192": ("aes192", "AES_CBC", "192"),
    "aes256": ("aes256", "AES_CBC", "256"),
    "3des": ("3des", "3DES", None),
    "aes128gcm16": ("aes128gcm16", "AES_GCM_16", "128"),
    "aes192gcm16": ("aes192gcm16", "AES_GCM_16", "192"),
    "aes256gcm16": ("aes256gcm16", "AES_GCM_16", "256"),
    "chacha20poly1305": ("chacha20poly1305", "CHACHA20_POLY1305", None),
}
INTEG = {
    "sha1": "HMAC_SHA1_96",
    "sha256": "HMAC_SHA2_256_128",
    "sha384": "HMAC_SHA2_384_192",
    "sha512": "HMAC_SHA2_512_256",
}
PRF = {
    "prfsha1": "PRF_HMAC_SHA1",
    "prfsha256": "PRF_HMAC_SHA2_256",
    "prfsha384": "PRF_HMAC_SHA2_384",
    "prfsha512": "PRF_HMAC_SHA2_512",
}
DH = {
    "modp1024": "MODP_1024",
    "modp1536": "MODP_1536",
    "modp2048": "MODP_2048",
    "modp3072": "MODP_3072",
    "modp4096": "MODP_4096",
    "ecp256": "ECP_256",
    "ecp384": "ECP_384",
    "ecp521": "ECP_521",
    "x25519": "CURVE_25519",
}


def parse_proposal(text, ike):
    """One proposal ("aes256-sha256-modp2048") as a dict: encryption,
    integrity (None with an AEAD cipher), prf (IKE: the integrity's HMAC
    when none is written, strongSwan's rule), dh, esn (ESP)."""
    assert "," not in text, f"one proposal expected, not {text!r}"
    p = {"encryption": None, "integrity": None, "prf": None, "dh": None,
         "esn": False}
    for tok in text.split("-"):
        if tok in ENCR:
            p["encryption"] = tok
        elif tok in INTEG:
            p["integrity"] = tok
        elif tok in PRF:
            p["prf"] = tok
        elif tok in DH:
            p["dh"] = tok
        elif tok in ("esn", "noesn"):
            p["esn"] = tok == "esn"
        else:
            raise ValueError(f"unknown keyword {tok!r} in {text!r}")
    aead = "gcm" in p["encryption"] or "chacha" in p["encryption"]
    if ike:
        if aead and p["integrity"] and not p["prf"]:
            p["prf"] = "prf" + p["integrity"]
        if aead:
            p["integrity"] = None
        if not p["prf"]:
            p["prf"] = "prf" + p["integrity"]
    return p


def assert_vpnd_algs(r, conn, ike, esp):
    """The established IKE SA of conn on router r and its Child SAs use
    exactly the algorithms of proposals `ike` and `esp`."""
    want_i = parse_proposal(ike, True)
    want_e = parse_proposal(esp, False)
    sas = [s for s in conn_sas(r, conn) if s["state"] == "established"]
    assert sas, f"{r.name} {conn}: no established IKE SA"
    for s in sas:
        got = {"encryption": s.get("encryption"),
               "integrity": s.get("integrity"), "prf": s.get("prf"),
               "dh": s.get("dhGroup")}
        want = {k: want_i[k] for k in got}
        assert got == want, \
            f"{r.name} {conn}: IKE SA negotiated {got}, expected {want} " \
            f"(proposal {ike})"
        children = s.get("childSas", [])
        for ch in children:
            got = {"encryption": ch.get("encryption"),
                   "integrity": ch.get("integrity"), "esn": ch.get("esn")}
            want = {k: want_e[k] for k in got}
            assert got == want, \
                f"{r.name} {conn}: Child SA {ch['spiIn']} negotiated " \
                f"{got}, expected {want} (proposal {esp})"
    assert any(s.get("childSas") for s in sas), \
        f"{r.name} {conn}: no Child SA"


def assert_swan_algs(sas, ike, esp):
    """strongSwan's IKE SAs (Swan.list_sas()) and their Child SAs use
    exactly the algorithms of proposals `ike` and `esp` (names as vici
    gives them). Returns the established IKE SAs."""
    want_i = parse_proposal(ike, True)
    want_e = parse_proposal(esp, False)
    est = [s for s in sas if s.get("state") == "ESTABLISHED"]
    assert est, f"strongSwan has no established IKE SA: {sas}"
    keys = ("encr-alg", "encr-keysize", "integ-alg", "prf-alg", "dh-group")
    for s in est:
        _, enc, ks = ENCR[want_i["encryption"]]
        want = {"encr-alg": enc, "encr-keysize": ks,
                "integ-alg": INTEG.get(want_i["integrity"]),
                "prf-alg": PRF[want_i["prf"]], "dh-group": DH[want_i["dh"]]}
        got = {k: s.get(k) for k in keys}
        assert got == want, \
            f"strongSwan IKE SA negotiated {got}, expected {want} " \
            f"(proposal {ike})"
        children = [c for c in s["child-sas"].values()
                    if c.get("state") == "INSTALLED"]
        assert children, f"strongSwan: no installed Child SA in {s}"
        for c in children:
            _, enc, ks = ENCR[want_e["encryption"]]
            want = {"encr-alg": enc, "encr-keysize": ks,
                    "integ-alg": INTEG.get(want_e["integrity"]),
                    "esn": "1" if want_e["esn"] else None}
            got = {k: c.get(k) for k in want}
            assert got == want, \
                f"strongSwan Child SA negotiated {got}, expected {want} " \
                f"(proposal {esp})"
    return est



def assert_no_tunnel(r, conn, error=None, ifname=None):
    """Connection conn on router r failed and stays without a tunnel:
    not established, lastError containing `error` (if given), carrier
    down (in vpnd's state and on the interface), no established IKE SA
    and no Child SA in `show vpn sa json`. Returns the connection JSON."""
    what = f"{r.name} {conn}"
    if error is not None:
        # an unauthenticated refusal (IKE_SA_INIT) ends the attempt only
        # after vpnd has waited a little for a usable answer: the reason
        # arrives within seconds
        try:
            wait_for(lambda: error in conn_state(r, conn)["lastError"], 10,
                     f"{what}: lastError {error!r}")
        except TimeoutError:
            pass  # the assertion below says what there is
    st = conn_state(r, conn)
    assert st["state"] in ("idle", "connecting"), \
        f"{what}: state {st['state']!r} after a failure, expected idle " \
        f"or connecting: {st}"
    if error is not None:
        assert error in st["lastError"], \
            f"{what}: lastError {st['lastError']!r}, expected " \
            f"{error!r}"
    assert st["carrier"] is False, f"{what}: carrier up: {st}"
    sas = conn_sas(r, conn)
    est = [s for s in sas if s["state"] == "established"]
    assert not est, f"{what}: established IKE SA after a failure: {est}"
    children = [c for s in sas for c in s.get("childSas", [])]
    assert not children, f"{what}: Child SAs after a failure: {children}"
    ifname = ifname or st.get("interface")
    if ifname:
        link = r.exec(["ip", "-o", "link", "show", ifname], check=False)
        assert not link or "NO-CARRIER" in link or "LOWER_UP" not in link, \
            f"{what}: {ifname} has carrier: {link}"
    return st


def assert_swan_no_child(sw):
    """strongSwan holds no established IKE SA and no installed Child SA."""
    sas = sw.list_sas()
    est = [s["name"] for s in sas if s.get("state") == "ESTABLISHED"]
    children = [c for s in sas for c in s["child-sas"].values()
                if c.get("state") == "INSTALLED"]
    assert not est and not children, \
        f"strongSwan after a failure: established IKE SAs {est}, " \
        f"installed Child SAs {children}"

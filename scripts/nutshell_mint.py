"""Runs the nutshell reference mint (PyPI `cashu==0.20.3`) for the wallet's integration tests.

Started by `scripts/mint.sh start` with the virtualenv's python. It binds 127.0.0.1 on a free port itself
(no race between choosing a port and binding it), serves nutshell's app with uvicorn on that socket, and from a
side thread waits for `GET /v1/info`, checks that `/v1/keysets` serves an active secp256k1 `sat` keyset, and then
prints `MINT_URL=http://127.0.0.1:PORT` on stdout. The mint's own logs go to stderr. It stops cleanly on
SIGINT/SIGTERM and when its parent process dies (Linux PR_SET_PDEATHSIG), and removes its temp data dir.

Every nutshell setting is an environment variable; the caller's environment is passed through unchanged, except
the listen address and the database, which this harness owns.
"""

import ctypes
import json
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
import types
import urllib.request

READY_TIMEOUT_S = float(os.environ.get("MINT_HARNESS_READY_TIMEOUT", "120"))


def die_with_parent() -> None:
    """Ask the kernel to SIGTERM us when the process that started us exits, so no mint is ever orphaned."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass
    # The parent may already be gone between fork and prctl: then we belong to init/a subreaper.
    if os.getppid() == 1:
        sys.exit(1)


def stub_breez_sdk_spark() -> None:
    """cashu 0.20.3 pins `breez-sdk-spark>=0.15,<0.16`, which is no longer on PyPI, and imports it at module load
    (`cashu/lightning/sparkl2.py`, pulled in by `cashu/lightning/__init__.py`) even when the Spark backend is not
    used. The FakeWallet never touches it, so an empty stand-in module lets the import succeed. Using the Spark
    backend with this harness fails loudly, which is intended."""
    try:
        import breez_sdk_spark  # noqa: F401

        return
    except ImportError:
        pass

    class _Unavailable:
        def __init__(self, *args, **kwargs):
            raise RuntimeError("breez_sdk_spark is not installed (stubbed by the test harness)")

    stub = types.ModuleType("breez_sdk_spark")
    stub.EventListener = object  # base class of a listener declared at import time

    def __getattr__(name):
        return _Unavailable

    stub.__getattr__ = __getattr__  # type: ignore[attr-defined]
    sys.modules["breez_sdk_spark"] = stub


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=5) as res:
        return json.loads(res.read().decode("utf-8"))


def check_keysets(base: str) -> str:
    """Returns an error message when the mint serves no active secp256k1 `sat` keyset (ids `00…`/`01…`)."""
    keysets = get_json(base + "/v1/keysets").get("keysets", [])
    good = [
        k
        for k in keysets
        if k.get("active") and k.get("unit") == "sat" and str(k.get("id", ""))[:2] in ("00", "01")
    ]
    if good:
        return ""
    summary = ", ".join(f"{k.get('id', '?')[:4]}…/{k.get('unit')}/active={k.get('active')}" for k in keysets)
    return f"no active secp256k1 sat keyset (ids 00…/01…); mint serves: [{summary}]"


def print_invoice(amount_sat: str) -> int:
    """Prints a fresh, validly signed bolt11 invoice for `amount_sat` that no mint created: an *external* payee.
    A FakeWallet mint (FAKEWALLET_BRR=TRUE) pays any valid invoice and charges a 1 sat routing fee out of a fee
    reserve of at least 2 sat, so melting it exercises NUT-08 change. An invoice of the mint itself would be
    settled internally by nutshell, with no fee reserve at all."""
    if not amount_sat.isdigit() or int(amount_sat) <= 0:
        print("usage: mint.sh invoice AMOUNT_SAT (a positive integer)", file=sys.stderr)
        return 2
    from bolt11 import Bolt11, MilliSatoshi, TagChar, Tags, encode
    from bolt11.models.features import Feature, Features, FeatureState

    tags = Tags()
    tags.add(TagChar.payment_hash, os.urandom(32).hex())
    tags.add(TagChar.payment_secret, os.urandom(32).hex())
    tags.add(TagChar.description, "corecashu test payee")
    tags.add(TagChar.expire_time, 3600)
    # BOLT 11 feature bits (tag `9`, 5-bit value 5): var_onion_optin required (bit 8) and payment_secret
    # required (bit 14), as every current node writes. CDK's parser refuses an invoice without them.
    features = {Feature.var_onion_optin: FeatureState.required, Feature.payment_secret: FeatureState.required}
    tags.add(TagChar.features, Features.from_feature_list(features))
    invoice = Bolt11(
        currency="bc",
        amount_msat=MilliSatoshi(int(amount_sat) * 1000),
        date=int(time.time()),
        tags=tags,
    )
    # A random payee key per invoice: the signature is valid, the node does not exist.
    print(encode(invoice, os.urandom(32).hex()), flush=True)
    return 0


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "invoice":
        return print_invoice(sys.argv[2])
    die_with_parent()

    data_dir = tempfile.mkdtemp(prefix="corecashu-nutshell-")
    try:
        # Isolate the mint from any `.env` in the CWD or `~/.cashu/.env` (nutshell reads both, with override).
        os.chdir(data_dir)
        os.environ["HOME"] = data_dir
        os.environ["CASHU_DIR"] = os.path.join(data_dir, "cashu")
        os.environ["MINT_DATABASE"] = os.path.join(data_dir, "mint")
        os.environ["MINT_LISTEN_HOST"] = "127.0.0.1"

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        os.environ["MINT_LISTEN_PORT"] = str(port)
        base = f"http://127.0.0.1:{port}"

        stub_breez_sdk_spark()
        import uvicorn  # after the env is final: nutshell reads its settings at import

        from cashu.core.settings import settings

        config = uvicorn.Config(
            "cashu.mint.app:app",
            host="127.0.0.1",
            port=port,
            proxy_headers=settings.mint_rate_limit_proxy_trust,
            forwarded_allow_ips=settings.mint_forwarded_allow_ips,
            timeout_graceful_shutdown=5,
            log_level=os.environ.get("MINT_HARNESS_UVICORN_LOG_LEVEL", "warning"),
        )
        server = uvicorn.Server(config)
        failure: list = []

        def watch_ready() -> None:
            deadline = time.monotonic() + READY_TIMEOUT_S
            last_error = "no answer"
            while time.monotonic() < deadline and not server.should_exit:
                try:
                    info = get_json(base + "/v1/info")
                    problem = check_keysets(base)
                    if problem:
                        failure.append(problem)
                        server.should_exit = True
                        return
                    print(f"# mint ready: {info.get('version', '?')}", file=sys.stderr, flush=True)
                    print(f"MINT_URL={base}", flush=True)
                    return
                except Exception as e:  # not up yet
                    last_error = f"{type(e).__name__}: {e}"
                    time.sleep(0.2)
            if not server.should_exit:
                failure.append(f"mint not ready after {READY_TIMEOUT_S:.0f} s ({last_error})")
                server.should_exit = True

        # uvicorn handles SIGINT/SIGTERM itself (graceful shutdown) and re-raises the signal once it has stopped,
        # with the handlers that were installed before it ran: make those a no-op so `finally` still cleans up.
        stopped_by: list = []
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda signum, _frame: stopped_by.append(signum))

        threading.Thread(target=watch_ready, daemon=True).start()
        server.run(sockets=[sock])
        if stopped_by:
            return 0
        if failure:
            print(f"mint.sh: {failure[0]}", file=sys.stderr, flush=True)
            return 1
        if not server.started:
            print("mint.sh: the mint failed to start (see its log above)", file=sys.stderr, flush=True)
            return 1
        return 0
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

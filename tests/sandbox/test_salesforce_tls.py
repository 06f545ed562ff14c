"""The sandbox over HTTPS (``tls=True`` / ``--tls``): throwaway CA, verified clients, refused ones."""

import datetime as dt
import os
import re
import signal
import ssl
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from appflow_dagster.sandbox.salesforce import SalesforceSandbox

V = "/services/data/v59.0"
NOW = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)
RECORDS = {"Account": 4100, "Contact": 20}
CREDENTIALS = {
    "grant_type": "client_credentials",
    "client_id": "appflow-sandbox",
    "client_secret": "appflow-sandbox-secret",
}


@pytest.fixture(scope="module")
def sandbox():
    with SalesforceSandbox(seed=3, records=RECORDS, now=NOW, tls=True) as sb:
        yield sb


def trusting(sb: SalesforceSandbox, strict: bool = False) -> httpx.Client:
    """An httpx client trusting only the sandbox's CA (the 0.28 spelling of ``verify=sb.ca_file``)."""
    assert sb.ca_file is not None
    ctx = ssl.create_default_context(cafile=sb.ca_file)
    if strict:  # Python 3.13's default: CA and leaf certificates must be well-formed
        ctx.verify_flags |= ssl.VERIFY_X509_STRICT
    return httpx.Client(base_url=sb.url, verify=ctx)


def pull(client: httpx.Client, soql: str) -> tuple[list[bytes], str]:
    token = client.post("/services/oauth2/token", data=CREDENTIALS)
    assert token.status_code == 200, token.text
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    pages = [client.get(f"{V}/query", params={"q": soql}, headers=headers)]
    while not pages[-1].json()["done"]:
        pages.append(client.get(pages[-1].json()["nextRecordsUrl"], headers=headers))
    assert all(p.status_code == 200 for p in pages)
    return [p.content for p in pages], token.json()["instance_url"]


def test_https_url_ca_file_and_instance_url(sandbox):
    assert sandbox.url == f"https://127.0.0.1:{sandbox.port}"
    ca = Path(sandbox.ca_file)
    assert ca.is_file() and ca.read_text().startswith("-----BEGIN CERTIFICATE-----")
    with trusting(sandbox, strict=True) as c:
        _, instance_url = pull(c, "SELECT COUNT() FROM Contact")
    assert instance_url == sandbox.url


def test_httpx_reads_pages_over_tls_byte_identical_to_http(sandbox):
    soql = "SELECT FIELDS(STANDARD) FROM Account"
    with trusting(sandbox) as c:
        pages, _ = pull(c, soql)
        assert c.get("/services/data").json()[-1]["url"].startswith("/services/data/v")
    records = [r for p in pages for r in httpx.Response(200, content=p).json()["records"]]
    assert len(pages) == 3 and len(records) == 4100 - 82 == len({r["Id"] for r in records})
    with (
        SalesforceSandbox(seed=3, records=RECORDS, now=NOW) as plain,
        httpx.Client(base_url=plain.url) as c,
    ):
        assert plain.url.startswith("http://") and plain.ca_file is None
        plain_pages, instance_url = pull(c, soql)
        assert instance_url == plain.url
    assert plain_pages == pages  # same seed, same query locators: the same bytes over either transport


def test_localhost_name_is_in_the_certificate(sandbox):
    ctx = ssl.create_default_context(cafile=sandbox.ca_file)
    with httpx.Client(verify=ctx) as c:
        assert c.get(f"https://localhost:{sandbox.port}/services/data").status_code == 200


def test_client_without_the_ca_is_refused(sandbox):
    with httpx.Client(verify=ssl.create_default_context()) as c:  # system trust store only
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            c.get(f"{sandbox.url}/services/data")
    with httpx.Client() as c, pytest.raises(httpx.ConnectError, match="certificate verify failed"):
        c.get(f"{sandbox.url}/services/data")
    plain_http = sandbox.url.replace("https://", "http://")
    with httpx.Client() as c, pytest.raises(httpx.RemoteProtocolError):
        c.get(f"{plain_http}/services/data")  # the TLS port does not speak plain HTTP
    with trusting(sandbox) as c:  # refused handshakes leave the server serving
        assert c.get("/services/data").status_code == 200


def test_tls_dir_removed_on_stop():
    sb = SalesforceSandbox(records=10, tls=True).start()
    ca = Path(sb.ca_file)
    assert ca.is_file()
    sb.stop()
    assert not ca.parent.exists()


def test_cli_tls_ready_line_names_the_ca_file():
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "appflow_dagster.sandbox.salesforce",
            "--tls",
            "--port",
            "0",
            "--records",
            "50",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        m = re.fullmatch(r"Salesforce sandbox on (https://127\.0\.0\.1:\d+) \(CA file: (.+)\)\n", line)
        assert m, line
        url, ca_file = m.groups()
        with httpx.Client(verify=ssl.create_default_context(cafile=ca_file)) as c:
            assert c.get(f"{url}/services/data").status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert not Path(ca_file).parent.exists()  # SIGTERM stops cleanly and removes the certificates

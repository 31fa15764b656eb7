"""Cross-checking ShadowScope's names against tshark's: the comparison, tshark's scope rules, and the command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from sensor.capture.tshark import Name, names_in_packet
from sensor.crosscheck import compare, crosscheck, names_of
from sensor.observations import Observation
from sensor.observations import ObservedSignal as S
from sensor.sample_traffic import office_morning
from shadowscope.cli import app
from tests.sensor.captures import EXPECTED_NAMES, needs_tshark, quic_initials, two_interfaces

runner = CliRunner()


def observation(signal: S, host: str | None, transport: str = "tcp") -> Observation:
    return Observation(1.0, "10.0.0.1", 50000, "10.0.0.2", 443, transport, signal, host, None, None)


@pytest.mark.parametrize(
    ("observations", "names"),
    [
        ([observation(S.TLS_SNI, "claude.ai")], {(S.TLS_SNI, "claude.ai")}),
        ([observation(S.DNS, "chatgpt.com", "udp")], {(S.DNS, "chatgpt.com")}),
        ([observation(S.ECH, "cloudflare-ech.com")], {(S.TLS_SNI, "cloudflare-ech.com")}),
        ([observation(S.ECH, "cloudflare-ech.com", "udp")], {(S.QUIC_SNI, "cloudflare-ech.com")}),
        ([observation(S.DOH, "dns.google")], {(S.TLS_SNI, "dns.google")}),
        (  # an SNI with an ECH extension beside it is reported twice; it is one name
            [observation(S.TLS_SNI, "example.com"), observation(S.ECH, "example.com")],
            {(S.TLS_SNI, "example.com")},
        ),
        ([observation(S.ECH, None), observation(S.TLS_SNI, None)], set()),  # no name to compare
    ],
    ids=["sni", "dns", "ech-front-tcp", "ech-front-udp", "doh", "sni-and-ech", "no-name"],
)
def test_when_observations_are_turned_into_names_then_hidden_signals_count_as_the_sni_they_came_from(
    observations: list[Observation], names: set[Name]
) -> None:
    assert names_of(observations) == names


def test_when_compared_then_names_are_split_into_both_ours_and_tshark_only() -> None:
    ours = {(S.DNS, "a.example"), (S.TLS_SNI, "b.example")}
    theirs = {(S.TLS_SNI, "b.example"), (S.QUIC_SNI, "c.example")}

    result = compare("x.pcap", ours, theirs)

    assert result.both == {(S.TLS_SNI, "b.example")}
    assert result.only_ours == {(S.DNS, "a.example")}
    assert result.only_tshark == {(S.QUIC_SNI, "c.example")}
    assert result.missed
    assert "  missed (only tshark): quic_sni c.example" in result.lines()


def test_when_both_found_the_same_names_then_nothing_is_missed() -> None:
    result = compare("x.pcap", {(S.DNS, "a.example")}, {(S.DNS, "a.example")})

    assert not result.missed
    assert result.lines() == ["x.pcap: 1 names found by both, 0 only by ShadowScope, 0 only by tshark"]


FIELDS = {
    "sni": "tls_handshake_extensions_server_name",
    "gquic": "gquic_tag_sni",
    "dns": "dns_qry_name",
    "host": "http_host",
}


def ek(protocols: str, port: str, field: str, *values: str) -> dict[str, Any]:
    """One packet's layers as `tshark -T ek -e ...` prints them (dots in field names become underscores)."""
    transport = "tcp_port" if ":tcp" in protocols else "udp_port"
    return {"frame_protocols": [protocols], transport: ["40001", port], FIELDS[field]: list(values)}


@pytest.mark.parametrize(
    ("layers", "names"),
    [
        (ek("eth:ethertype:ip:tcp:tls", "443", "sni", "Claude.AI."), {(S.TLS_SNI, "claude.ai")}),
        (ek("sll:ethertype:ipv6:udp:quic:tls", "443", "sni", "x.io"), {(S.QUIC_SNI, "x.io")}),
        (ek("eth:ethertype:ip:udp:gquic", "443", "gquic", "www.gstatic.com"), {(S.QUIC_SNI, "www.gstatic.com")}),
        (ek("eth:ethertype:ip:udp:dns", "53", "dns", "chatgpt.com", "<Root>"), {(S.DNS, "chatgpt.com")}),
        (ek("raw:ip:tcp:dns", "53", "dns", "a.example"), {(S.DNS, "a.example")}),
        (ek("eth:ethertype:ip:udp:mdns", "5353", "dns", "printer.local"), set()),
        (ek("eth:ethertype:ip:udp:llmnr", "5355", "dns", "desktop"), set()),
        (ek("eth:ethertype:ip:icmp:ip:udp:dns", "53", "dns", "quoted.example"), set()),
        (ek("eth:ethertype:ip:tcp:http", "8080", "host", "Perplexity.ai:8080"), {(S.HTTP_HOST, "perplexity.ai")}),
        (ek("eth:ethertype:ipv6:tcp:http", "80", "host", "[2001:db8::1]:80"), {(S.HTTP_HOST, "2001:db8::1")}),
        (ek("eth:ethertype:ip:udp:ssdp", "1900", "host", "239.255.255.250:1900"), set()),
        (ek("eth:ethertype:ip:udp:dtls", "443", "sni", "d.io"), set()),
        ({}, set()),
    ],
    ids=[
        "tls",
        "quic",
        "gquic",
        "dns-udp-53",
        "dns-tcp-53",
        "mdns",
        "llmnr",
        "icmp-quote",
        "http-port",
        "http-ipv6",
        "ssdp-over-udp",
        "sni-over-udp-not-quic",
        "empty",
    ],
)
def test_when_tshark_reports_a_packet_then_only_names_in_the_sensors_scope_count(
    layers: dict[str, Any], names: set[Name]
) -> None:
    assert names_in_packet(layers) == names


# --- against tshark ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def captures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("crosscheck")
    return {
        "office-morning.pcap": office_morning(folder / "office-morning.pcap"),
        "two-interfaces.pcapng": two_interfaces(folder / "two-interfaces.pcapng"),
        "quic-initials.pcap": quic_initials(folder / "quic-initials.pcap"),
    }


@needs_tshark
@pytest.mark.parametrize("name", sorted(EXPECTED_NAMES))
def test_when_the_test_captures_are_crosschecked_then_tshark_finds_nothing_we_missed(
    captures: dict[str, Path], name: str
) -> None:
    result = crosscheck(str(captures[name]))

    assert not result.missed, result.lines()
    assert not result.only_ours, result.lines()
    assert {(signal.value, host) for signal, host in result.both} == EXPECTED_NAMES[name]
    assert result.tshark_problem is None


@needs_tshark
def test_when_the_command_finds_nothing_missed_then_it_prints_the_counts_and_exits_0(
    captures: dict[str, Path],
) -> None:
    paths = [str(path) for path in captures.values()]

    result = runner.invoke(app, ["sensor", "crosscheck", *paths])

    assert result.exit_code == 0, result.output
    assert f"{paths[0]}: 6 names found by both, 0 only by ShadowScope, 0 only by tshark" in result.stdout


@needs_tshark
def test_when_tshark_finds_a_name_we_missed_then_the_command_names_it_and_exits_1(
    captures: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sensor.crosscheck.our_names", lambda _source, _resolver: set())  # a sensor that reads nothing

    result = runner.invoke(app, ["sensor", "crosscheck", str(captures["quic-initials.pcap"])])

    assert result.exit_code == 1, result.output
    assert "missed (only tshark): quic_sni gemini.google.com" in result.stdout


@needs_tshark
@pytest.mark.parametrize(("content", "message"), [(None, "no such file"), (b"GIF89a", "not a pcap or pcapng file")])
def test_when_a_file_cannot_be_checked_then_the_command_says_so_checks_the_rest_and_exits_2(
    captures: dict[str, Path], tmp_path: Path, content: bytes | None, message: str
) -> None:
    bad = tmp_path / "bad.pcap"
    if content is not None:
        bad.write_bytes(content)

    result = runner.invoke(app, ["sensor", "crosscheck", str(bad), str(captures["office-morning.pcap"])])

    assert result.exit_code == 2
    assert message in result.stderr
    assert "6 names found by both" in result.stdout


def test_when_tshark_is_not_installed_then_the_commands_that_need_it_say_how_to_install_it(
    captures: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    capture = str(captures["office-morning.pcap"])

    for command in (["crosscheck", capture], ["read", "--jsonl", "--backend", "tshark", capture]):
        result = runner.invoke(app, ["sensor", *command])

        assert result.exit_code == 2
        assert "apt-get install tshark" in result.stderr


@pytest.mark.parametrize("backend", ["dpkt", "scapy", pytest.param("tshark", marks=needs_tshark)])
def test_when_reading_with_another_backend_then_the_command_prints_the_same_lines(
    captures: dict[str, Path], backend: str
) -> None:
    def read(*options: str) -> str:
        command = [sys.executable, "-m", "shadowscope", "sensor", "read", "--jsonl", *options]
        result = subprocess.run(
            [*command, str(captures["office-morning.pcap"])], capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    assert read("--backend", backend) == read()

"""CEF formatting: header and extension escaping round-trip through an independent parser."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from collector.alert_delivery.cef import escape_extension, escape_header, format_cef
from collector.alert_delivery.version import PRODUCT_VERSION
from tests.collector.alert_delivery.cef_parser import parse_cef
from tests.collector.alert_delivery.notices import make_notice


def test_the_header_names_vendor_product_version_rule_title_and_severity() -> None:
    event = parse_cef(format_cef(make_notice()))

    assert event.header == [
        "CEF:0",
        "ShadowScope",
        "ShadowScope",
        PRODUCT_VERSION,
        "8f2c1a9e-5b7d-4c3e-9a10-2f6b8d4e7c11",
        "Source code pasted into a public AI tool",
        "8",
    ]


def test_the_extension_maps_every_notice_field() -> None:
    event = parse_cef(format_cef(make_notice()))

    assert event.extension == {
        "externalId": "42",
        "cat": "shadowscope/alert",
        "cnt": "3",
        "start": "1741079700000",
        "end": "1741088550250",
        "cs1Label": "subject",
        "cs1": "user:7d3f9a",
        "cs2Label": "level",
        "cs2": "high",
        "cs3Label": "status",
        "cs3": "open",
        "destinationServiceName": "ChatGPT",
        "cs4Label": "toolId",
        "cs4": "openai-chatgpt",
        "cs5Label": "labels",
        "cs5": "source_code,credentials",
        "cs6Label": "entityTypes",
        "cs6": "API_KEY,EMAIL_ADDRESS",
        "request": "https://shadowscope.example.com/alerts/42",
    }


def test_absent_tool_labels_and_console_url_are_left_out() -> None:
    notice = make_notice(tool_id=None, tool_name=None, labels=(), entity_types=(), console_url=None)

    extension = parse_cef(format_cef(notice)).extension

    assert not {"destinationServiceName", "cs4", "cs5", "cs6", "request"} & set(extension)


def test_severity_follows_the_level() -> None:
    severities = {
        level: parse_cef(format_cef(make_notice(level=level))).header[6]
        for level in ["low", "medium", "high", "critical"]
    }

    assert severities == {"low": "3", "medium": "5", "high": "8", "critical": "10"}


def test_pipes_equals_and_backslashes_are_escaped_as_the_spec_says() -> None:
    assert escape_header(r"a|b\c=d") == r"a\|b\\c=d"
    assert escape_extension("a|b\\c=d\ne\rf") == r"a|b\\c\=d\ne\rf"
    assert escape_header("two\nlines") == "two lines"


def test_a_title_with_pipe_and_equals_round_trips() -> None:
    title = r"Secrets | keys=values \ paths"
    notice = make_notice(title=title, subject="host=ws-17 | lab\\b\nsecond line")

    event = parse_cef(format_cef(notice))

    assert event.header[5] == title
    assert event.extension["cs1"] == "host=ws-17 | lab\\b\nsecond line"
    assert event.extension["cnt"] == "3"


@settings(max_examples=200, deadline=None)
@given(title=st.text(), subject=st.text(), status=st.text(min_size=1))
def test_any_text_round_trips(title: str, subject: str, status: str) -> None:
    notice = make_notice(title=title, subject=subject, status=status)

    event = parse_cef(format_cef(notice))

    assert event.header[5] == " ".join(title.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    assert event.extension["cs1"] == subject.replace("\r\n", "\n")
    assert event.extension["cs3"] == status.replace("\r\n", "\n")

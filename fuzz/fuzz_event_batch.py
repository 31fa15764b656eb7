"""Coverage-guided fuzzing of the event contract's parser: bytes in, a batch or a ValidationError out, never a crash.

For every input the harness checks that:

* ``EventBatch.model_validate_json`` raises nothing but ``pydantic.ValidationError``;
* the collector's error formatting (``collector.errors.field_path`` on every error location, bare and prefixed with
  "body" as FastAPI reports it, then the JSON error response built from the details) does not raise;
* when the bytes are UTF-8 JSON that Python's ``json`` module reads (the collector's HTTP path: FastAPI parses the
  body with ``json.loads``, then validates the objects), ``EventBatch.model_validate`` on the parsed value also raises
  only ``ValidationError`` and agrees with the JSON-mode parser: both accept and build equal batches, or both refuse;
* a batch that was accepted survives a round trip through ``model_dump_json`` (a producer's output is valid input).

Any other exception is a finding: libFuzzer prints it and writes the input to ``crash-<sha1>``.

Run (see fuzz/README.md)::

    .venv/bin/python fuzz/fuzz_event_batch.py -runs=100000
    .venv/bin/python fuzz/fuzz_event_batch.py -max_total_time=600 my-corpus/ fuzz/corpus/

With no corpus directory on the command line, new inputs go to a temporary directory and fuzz/corpus/ seeds it.
"""

from __future__ import annotations

import copy
import json
import math
import random
import sys
import tempfile
from pathlib import Path
from typing import Any

import atheris
import fastapi  # noqa: F401  (imported uninstrumented: only our own code is worth the coverage feedback)
import pydantic

# Only our code gets coverage feedback: pydantic validates in Rust (pydantic-core), where atheris sees nothing,
# and instrumenting pydantic's Python half only slows the start-up (FastAPI builds many models at import).
with atheris.instrument_imports(include=["events", "collector.errors"]):
    from collector.errors import ApiError, ErrorDetail, error_response, field_path
    from events.models import EventBatch

HERE = Path(__file__).resolve().parent
SEED_CORPUS = HERE / "corpus"
# Tokens libFuzzer splices into inputs: field names, enum values and shapes a byte-level mutator rarely invents.
DICTIONARY_TOKENS = [
    *(f'"{name}"' for name in ["schema_version", "batch_id", "sent_at", "events", "event_id", "kind", "sensor_id"]),
    *(f'"{name}"' for name in ["client_ip", "client_name", "server_ip", "server_port", "transport", "tool_id"]),
    *(f'"{name}"' for name in ["server_name", "signals", "bytes_up", "bytes_down", "packets_up", "packets_down"]),
    *(f'"{name}"' for name in ["first_seen", "last_seen", "device_id", "user", "host", "occurred_at", "text"]),
    *(f'"{name}"' for name in ["findings", "verdict", "labels", "entity_counts", "text_hmac", "text_length"]),
    *(f'"{name}"' for name in ["action", "user_choice", "justification", "file_name", "file_size", "media_type"]),
    *(f'"{name}"' for name in ["file_sha256", "network_usage", "visit", "prompt", "paste", "upload", "tls_sni"]),
    '"1.0"',
    '"2025-03-01T11:59:00Z"',
    '"2025-03-01T11:59:00+23:59"',
    '"::ffff:10.0.0.1"',
    "9223372036854775808",
    '"\\u0000"',
    '"\\ud800"',
    "1e400",
    "-0",
    "null",
    "true",
    "[]",
    "{}",
]


def check_error_formatting(error: pydantic.ValidationError) -> None:
    """What the collector does with a ValidationError must not fail: name each field, render the JSON reply."""
    details = []
    for item in error.errors(include_url=False):
        location = tuple(item["loc"])
        path = field_path(location)
        assert isinstance(path, str), path
        assert path, location
        body_path = field_path(("body", *location))
        assert body_path == path, (body_path, path, location)
        details.append(ErrorDetail(field=path, problem=str(item["msg"])))
    response = error_response(ApiError(422, "validation_error", "fuzz", details[:20]))
    assert response.status_code == 422


def _finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(_finite(item) for item in value)
    if isinstance(value, dict):
        return all(_finite(item) for item in value.values())
    return True


def _python_mode(data: bytes) -> tuple[bool, EventBatch | None]:
    """(applies, batch): validate the value json.loads reads, as the collector's HTTP path does."""
    try:
        value = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError):  # FastAPI answers these with 400 before the contract is asked
        return False, None
    if not _finite(value):  # NaN and Infinity are Python extensions of JSON; the JSON-mode parser refuses them
        return False, None
    try:
        return True, EventBatch.model_validate(value)
    except pydantic.ValidationError as error:
        check_error_formatting(error)
        return True, None


def test_one_input(data: bytes) -> None:
    json_batch: EventBatch | None = None
    json_refused_as_json = False
    try:
        json_batch = EventBatch.model_validate_json(data)
    except pydantic.ValidationError as error:
        check_error_formatting(error)
        json_refused_as_json = any(item["type"] == "json_invalid" for item in error.errors(include_url=False))

    applies, python_batch = _python_mode(data)
    if applies and not json_refused_as_json:
        assert (json_batch is None) == (python_batch is None), (
            f"JSON mode {'accepted' if json_batch else 'refused'} what Python mode "
            f"{'accepted' if python_batch else 'refused'}: {data!r}"
        )
        assert json_batch == python_batch, (json_batch, python_batch)

    if json_batch is not None:
        again = EventBatch.model_validate_json(json_batch.model_dump_json())
        assert again == json_batch, (again, json_batch)


# --- Structure-aware mutation ----------------------------------------------------------------------------------
# Byte flips turn nine inputs in ten into broken JSON, which never gets past the parser. Most mutations instead
# parse the input, change one node of the tree and serialise it again, so the contract's validators see batches
# that are nearly right; the rest stay byte-level, so the JSON parser is fuzzed too.

INTERESTING: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    1,
    65535,
    65536,
    2**31,
    2**53 + 1,
    2**63 - 1,
    2**63,
    2**64,
    -(2**63) - 1,
    10**30,
    0.5,
    -0.0,
    1e308,
    1.0,
    "",
    " ",
    "\x00",
    "a\x00b",
    "\u200b",
    "\U0001f600",
    "é" * 300,
    "x" * 257,
    "1.0",
    "1.99",
    "01.0",
    "1.0\n",
    "\u0661.0",
    "2.0",
    "1." + "0" * 20,
    "2020-01-01T00:00:00Z",
    "2019-12-31T23:59:59.999999+00:00",
    "2025-03-01T11:59:00",
    "2025-03-01",
    "2025-03-01T11:59:00+23:59",
    "0001-01-01T00:00:00+23:59",
    "9999-12-31T23:59:59-23:59",
    "2025-02-29T00:00:00Z",
    "2025-03-01T11:59:00.1234567890Z",
    "2025-03-01t11:59:00z",
    "2025-03-01 11:59:00Z",
    1700000000,
    "1700000000",
    "00000000-0000-0000-0000-000000000000",
    "6F1C2A8E4B7D4C1E9A550D3B2E7F9A10",
    "{6f1c2a8e-4b7d-4c1e-9a55-0d3b2e7f9a10}",
    "urn:uuid:6f1c2a8e-4b7d-4c1e-9a55-0d3b2e7f9a10",
    "::",
    "::ffff:10.0.0.1",
    "fe80::1%eth0",
    "0.0.0.0",  # noqa: S104 (an edge value for the contract, not an address to bind)
    "255.255.255.255",
    "010.001.002.003",
    "10.1.2.3/32",
    "a" * 128,
    "a" * 129,
    "-leading",
    "tool:with.dots-and_",
    "*",
    "*.example.com",
    "xn--bcher-kva.example.",
    "a" * 63 + ".com",
    "a" * 64 + ".com",
    "ab" * 32,
    "AB" * 32,
    "network_usage",
    "visit",
    "prompt",
    "paste",
    "upload",
    "dns",
    "tls_sni",
    "tcp",
    "udp",
    "pii",
    "block",
    "none",
    [],
    {},
    [None],
    {"": None},
]


def _interesting(rng: random.Random) -> Any:
    return copy.deepcopy(rng.choice(INTERESTING))  # fresh: mutations must not change the shared list or values


def _nodes(value: Any, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _nodes(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _nodes(item, (*path, index))
    return found


def _get(value: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        value = value[part]
    return value


def _set(value: Any, path: tuple[str | int, ...], new: Any) -> Any:
    if not path:
        return new
    _get(value, path[:-1])[path[-1]] = new
    return value


def _mutate_node(node: Any, rng: random.Random, donor: Any) -> Any:  # noqa: PLR0911 (one return per mutation)
    choice = rng.randrange(8)
    if choice == 0 and isinstance(node, dict) and node:
        node.pop(rng.choice(list(node)))  # drop a field
        return node
    if choice == 1 and isinstance(node, dict):
        node[rng.choice([*map(str, node), "extra", "kind", "text", "findings"])] = _interesting(rng)
        return node
    if choice == 2 and isinstance(node, list) and node:
        node.insert(rng.randrange(len(node) + 1), json.loads(json.dumps(rng.choice(node))))  # repeat an item
        return node
    if choice == 3 and isinstance(node, str):
        mutated = atheris.Mutate(node.encode("utf-8", "surrogatepass"), max(8, 2 * len(node)))
        return mutated.decode("utf-8", "surrogateescape")  # may leave lone surrogates: JSON can carry them
    if choice == 4 and isinstance(node, int | float) and not isinstance(node, bool):
        return rng.choice([node + 1, node - 1, -node, node * 2**32, float(node), str(node)])
    if choice == 5:
        return json.loads(json.dumps(_get(donor, rng.choice(_nodes(donor)))))  # a subtree from elsewhere
    if choice == 6:
        return [node] if rng.random() < 0.5 else {"value": node}
    return _interesting(rng)


def custom_mutator(data: bytes, max_size: int, seed: int) -> bytes:
    rng = random.Random(seed)  # noqa: S311 (libFuzzer's seed makes each mutation reproducible; nothing secret)
    try:
        value = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError):
        return atheris.Mutate(data, max_size)
    if rng.random() < 0.15:
        return atheris.Mutate(data, max_size)
    donor = json.loads(json.dumps(value))
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        path = rng.choice(_nodes(value))
        value = _set(value, path, _mutate_node(_get(value, path), rng, donor))
    out = json.dumps(value, ensure_ascii=rng.random() < 0.5).encode("utf-8", "surrogatepass")
    return out if len(out) <= max_size else atheris.Mutate(data, max_size)


def _default_arguments(argv: list[str]) -> list[str]:
    """Without a corpus directory, write new inputs to a temporary one and seed from fuzz/corpus/."""
    argv = list(argv)
    positional = [arg for arg in argv[1:] if not arg.startswith("-")]
    if not positional:
        argv += [tempfile.mkdtemp(prefix="fuzz-event-batch-"), str(SEED_CORPUS)]
    if not any(arg.startswith("-dict=") for arg in argv[1:]):
        dictionary = Path(tempfile.mkdtemp(prefix="fuzz-event-batch-dict-")) / "event_batch.dict"
        dictionary.write_text("".join(f"{json.dumps(token)}\n" for token in DICTIONARY_TOKENS), encoding="utf-8")
        argv.append(f"-dict={dictionary}")
    return argv


def main() -> None:
    atheris.Setup(_default_arguments(sys.argv), test_one_input, custom_mutator=custom_mutator)
    atheris.Fuzz()


if __name__ == "__main__":
    main()

"""AppFlow's folder and file names for every prefixConfig option (001 ~19,700-19,860, ~2,477)."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from appflow_dagster.engine.layout import Layout, partition_folder
from appflow_dagster.spec.model import OutputFormat, PrefixConfig

T = datetime(2022, 11, 10, 13, 5, 7, tzinfo=UTC)
E = "267c0ad0-228f-4d25-96fe-0f975005fec6"


@pytest.mark.parametrize(
    ("file_type", "prefix", "expected"),
    [
        ("JSON", PrefixConfig(), f"p/flow/{E}/{E}-00000.jsonl"),
        ("CSV", PrefixConfig(), f"p/flow/{E}/{E}-00000.csv"),
        ("PARQUET", PrefixConfig(), f"p/flow/{E}/{E}-00000.parquet"),
        ("JSON", PrefixConfig("PATH", "YEAR"), f"p/flow/2022/{E}/{E}-00000.jsonl"),
        ("JSON", PrefixConfig("PATH", "MONTH"), f"p/flow/2022/11/{E}/{E}-00000.jsonl"),
        ("JSON", PrefixConfig("PATH", "DAY"), f"p/flow/2022/11/10/{E}/{E}-00000.jsonl"),
        ("JSON", PrefixConfig("PATH", "HOUR"), f"p/flow/2022/11/10/13/{E}/{E}-00000.jsonl"),
        ("JSON", PrefixConfig("PATH", "MINUTE"), f"p/flow/2022/11/10/13/05/{E}/{E}-00000.jsonl"),
        ("JSON", PrefixConfig("FILENAME", "DAY"), f"p/flow/{E}/{E}-00000-2022-11-10.jsonl"),
        ("JSON", PrefixConfig("FILENAME", "MINUTE"), f"p/flow/{E}/{E}-00000-2022-11-10T13:05.jsonl"),
        (
            "JSON",
            PrefixConfig("PATH_AND_FILENAME", "HOUR"),
            f"p/flow/2022/11/10/13/{E}/{E}-00000-2022-11-10T13.jsonl",
        ),
        ("JSON", PrefixConfig(path_prefix_hierarchy=("EXECUTION_ID",)), f"p/flow/{E}/{E}-00000.jsonl"),
        (
            "JSON",
            PrefixConfig(path_prefix_hierarchy=("SCHEMA_VERSION",)),
            f"p/flow/schemaVersion_3/{E}-00000.jsonl",
        ),
        (
            "JSON",
            PrefixConfig("PATH", "DAY", ("SCHEMA_VERSION", "EXECUTION_ID")),
            f"p/flow/schemaVersion_3/2022/11/10/{E}/{E}-00000.jsonl",
        ),
        (
            "JSON",
            PrefixConfig("PATH", "DAY", ("SCHEMA_VERSION",)),
            f"p/flow/schemaVersion_3/2022/11/10/{E}-00000.jsonl",
        ),
    ],
)
def test_file_key(file_type: str, prefix: PrefixConfig, expected: str) -> None:
    layout = Layout("p/flow", E, T, OutputFormat(file_type, prefix), schema_version=3)
    assert layout.file_key((), 0) == expected


def test_partition_folders_in_order_with_null() -> None:
    layout = Layout("flow", E, T, OutputFormat())
    key = layout.file_key((("Account Rating", None), ("Industry", "Apparel")), 2)
    assert key == f"flow/{E}/Account Rating=null/Industry=Apparel/{E}-00002.jsonl"


@pytest.mark.parametrize(
    ("value", "folder"),
    [
        ("Warm", "F=Warm"),
        (None, "F=null"),
        ("", "F=null"),
        ("a/../b", "F=a%2F..%2Fb"),
        ("x=y:z", "F=x%3Dy%3Az"),
    ],
)
def test_partition_values_are_escaped(value: str | None, folder: str) -> None:
    assert partition_folder("F", value) == folder


def test_date_folders_are_utc() -> None:
    local = T.astimezone(timezone(timedelta(hours=-10)))  # 2022-11-10 03:05 in UTC-10
    layout = Layout(
        "flow", E, local.replace(hour=23, day=9), OutputFormat(prefix_config=PrefixConfig("PATH", "DAY"))
    )
    assert layout.run_folder() == f"flow/2022/11/10/{E}"


def test_schema_version_required_when_requested() -> None:
    layout = Layout(
        "flow", E, T, OutputFormat(prefix_config=PrefixConfig(path_prefix_hierarchy=("SCHEMA_VERSION",)))
    )
    with pytest.raises(ValueError, match="schema version"):
        layout.run_folder()

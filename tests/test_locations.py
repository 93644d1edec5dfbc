"""Locations: what users write (paths, file:// and object-store URIs) parsed into one type,
refused with the message they see when lakesmith cannot use it, and navigated without escaping."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from lakesmith.locations import Location, LocationError, folder_name

KEY_CHARACTERS = "object keys are limited to letters, digits and /._-+,;:&$!()'=@"
PATH_CHARACTERS = ("delta-rs cannot open paths with a %XX sequence, a backslash, [, |, ^ or a "
                   "control character")


def refused(text: str, **kwargs) -> str:
    with pytest.raises(LocationError) as info:
        Location.parse(text, **kwargs)
    return str(info.value)


@pytest.mark.parametrize(("text", "path"), [
    ("/data/lake", "/data/lake"),
    ("/data/lake/", "/data/lake"),
    ("  /data/a b  ", "/data/a b"),
    ("/data/./x/../y", "/data/y"),
    ("file:///data/lake", "/data/lake"),
    ("FILE:///data/lake", "/data/lake"),
    ("file://localhost/data/lake", "/data/lake"),
    ("file:///data/my%20folder/caf%C3%A9", "/data/my folder/café"),
    ("file:///data/50%25", "/data/50%"),
])
def test_local_paths_and_file_uris(text: str, path: str) -> None:
    location = Location.parse(text)
    assert location == Location("file", "", path)
    assert location.is_local
    assert location.local_path == Path(path)
    assert location.uri == f"file://{path}"
    assert location.delta_uri() == path  # delta-rs encodes file paths itself
    assert str(location) == path


def test_relative_paths_are_below_the_working_folder_or_the_base(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert Location.parse("data/x") == Location.local(tmp_path / "data" / "x")
    assert Location.parse("~/x") == Location("file", "", os.path.expanduser("~/x"))
    base = Location.parse("/project")
    assert Location.parse("storage", base=base) == Location("file", "", "/project/storage")
    assert Location.parse("../shared/x", base=base) == Location("file", "", "/shared/x")
    assert Location.parse("/abs", base=base) == Location("file", "", "/abs")
    assert Location.parse("../../../../x", base=base) == Location("file", "", "/x")
    bucket = Location.parse("s3://lake/project", options={"k": "v"})
    below = Location.parse("data/x", base=bucket)
    assert below == Location("s3", "lake", "project/data/x")
    assert below.options == {"k": "v"}
    assert Location.parse("../other", base=bucket) == Location("s3", "lake", "other")
    assert Location.parse("../../../x", base=bucket) == Location("s3", "lake", "x")


@pytest.mark.parametrize(("text", "scheme", "authority", "path"), [
    ("s3://lake/a/b", "s3", "lake", "a/b"),
    ("s3a://lake/a/b/", "s3", "lake", "a/b"),
    ("S3N://lake//a/./b", "s3", "lake", "a/b"),
    ("s3://lake", "s3", "lake", ""),
    ("gcs://lake/k", "gs", "lake", "k"),
    ("gs://lake/k", "gs", "lake", "k"),
    ("abfss://c@acct.dfs.core.windows.net/p", "abfss", "c@acct.dfs.core.windows.net", "p"),
    ("memory://m/x", "memory", "m", "x"),
])
def test_object_store_uris(text, scheme, authority, path) -> None:
    location = Location.parse(text, options={"AWS_REGION": "r"})
    assert location == Location(scheme, authority, path)
    assert not location.is_local
    assert location.storage_options() == {"AWS_REGION": "r"}
    assert location.uri == f"{scheme}://{authority}/{path}".rstrip("/")
    assert str(location) == location.uri


def test_options_do_not_take_part_in_equality() -> None:
    a = Location.parse("s3a://lake/x", options={"AWS_ACCESS_KEY_ID": "a"})
    b = Location.parse("s3://lake/x", options={"AWS_ACCESS_KEY_ID": "b"})
    assert a == b and hash(a) == hash(b)
    assert b.with_options({"x": "y"}).options == {"x": "y"}
    assert a.join("t").options == {"AWS_ACCESS_KEY_ID": "a"}


def test_delta_uri_percent_encodes_object_keys() -> None:
    location = Location.parse("s3://lake/a/b=1,c:2")
    assert location.delta_uri() == "s3://lake/a/b%3D1%2Cc%3A2"
    assert location.uri == "s3://lake/a/b=1,c:2"
    assert Location.parse("s3://lake").delta_uri() == "s3://lake"


def test_unsupported_schemes_are_refused() -> None:
    assert refused("hdfs://nn/x", where="storage") == (
        "storage: 'hdfs://nn/x' uses the scheme 'hdfs', which lakesmith does not support."
        "\n  hint: use a local path, file://, s3://, gs:// or abfss://.")
    assert refused("http://host/x").startswith("'http://host/x' uses the scheme 'http'")


@pytest.mark.parametrize(("text", "message"), [
    ("", "storage: an empty location is not allowed."),
    ("   ", "storage: an empty location is not allowed."),
    ("file://server/share", "storage: 'file://server/share' names the host 'server'; a "
                            "file:// URI must name a local path (file:///path)."),
    ("s3:///key", "storage: 's3:///key' has no bucket or container name."),
    ("s3://lake/a/../b", "storage: 's3://lake/a/../b' contains '..'; write the full key prefix "
                         "instead."),
])
def test_malformed_locations_are_refused(text: str, message: str) -> None:
    assert refused(text, where="storage") == message


@pytest.mark.parametrize(("text", "shown", "bad"), [
    ("/data/a%41b", "/data/a%41b", "%41"),
    ("/data/a[1]", "/data/a[1]", "["),
    ("/data/a|b", "/data/a|b", "|"),
    ("/data/a^b", "/data/a^b", "^"),
    ("/data/a\\b", "/data/a\\b", "\\"),
    ("/data/a\tb", "/data/a\tb", "\t"),
    ("file:///data/a%2541", "/data/a%41", "%41"),
])
def test_local_paths_delta_cannot_open_are_refused(text, shown, bad) -> None:
    assert refused(text) == (
        f"The location {shown!r} contains {bad!r}, which lakesmith cannot read and write exactly "
        f"({PATH_CHARACTERS}).\n  hint: rename the folder.")


@pytest.mark.parametrize(("text", "shown", "bad"), [
    ("s3://lake/a b", "s3://lake/a b", " "),
    ("s3://lake/a%20b", "s3://lake/a b", " "),
    ("gs://lake/café", "gs://lake/café", "é"),
])
def test_object_keys_the_engine_would_encode_are_refused(text, shown, bad) -> None:
    assert refused(text) == (
        f"The location {shown!r} contains {bad!r}, which lakesmith cannot read and write exactly "
        f"({KEY_CHARACTERS}).\n  hint: rename the folder.")


@pytest.mark.parametrize(("text", "ends"), [
    ("file:///data/a#b", "#"), ("file:///data/a?b=1", "?"), ("s3://lake/a#b/c", "#"),
    ("s3://lake/x?", "?"),
])
def test_a_query_or_fragment_is_refused_not_cut_off(text: str, ends: str) -> None:
    assert refused(text, where="storage") == (
        f"storage: {text!r} contains {ends!r}, which ends the path of a URI.\n  hint: write it "
        "as %23 (#) or %3F (?) in a file:// URI, or as a plain path.")
    assert Location.parse("file:///data/a%23b%3F").path == "/data/a#b?"
    assert Location.parse("/data/a#b?").path == "/data/a#b?"


def test_relative_object_keys_are_checked_too() -> None:
    base = Location.parse("s3://lake/p")
    assert refused("a b", base=base) == (
        f"The location 's3://lake/p/a b' contains ' ', which lakesmith cannot read and write "
        f"exactly ({KEY_CHARACTERS}).\n  hint: rename the folder.")
    assert Location.parse("a b", base=Location.local("/p")).path == "/p/a b"


def test_join_stays_inside() -> None:
    root = Location.parse("s3://lake/p")
    assert root.join("a", "b/c", "./d/") == Location("s3", "lake", "p/a/b/c/d")
    assert root.join("a\\b") == Location("s3", "lake", "p/a/b")
    assert Location.parse("s3://lake").join("x") == Location("s3", "lake", "x")
    assert Location.local("/").join("x") == Location("file", "", "/x")
    with pytest.raises(LocationError) as info:
        root.join("a/../../b")
    assert str(info.value) == ("'a/../../b' would leave s3://lake/p; derived locations must stay "
                               "inside it.")
    with pytest.raises(LocationError, match="'..' would leave /data"):
        Location.local("/data").join("..")
    assert Location.local("/data").join("a/../b", allow_parent=True).path == "/data/b"
    assert Location.local("/").join("..", "x", allow_parent=True).path == "/x"


def test_name_and_parent() -> None:
    location = Location.parse("s3://lake/a/b")
    assert location.name == "b"
    assert location.parent == Location("s3", "lake", "a")
    assert location.parent.parent == Location("s3", "lake", "")
    assert Location.local("/data/x.json").name == "x.json"
    assert Location.local("/data/x.json").parent == Location.local("/data")


def test_relative_to_and_is_within() -> None:
    root = Location.parse("s3://lake/p")
    assert Location.parse("s3://lake/p/a/b").relative_to(root) == "a/b"
    assert root.relative_to(root) == ""
    assert Location.parse("s3://lake/pa/b").relative_to(root) is None  # not a prefix match
    assert Location.parse("s3://other/p/a").relative_to(root) is None
    assert Location.parse("gs://lake/p/a").relative_to(root) is None
    assert Location.parse("s3://lake/p/a").relative_to(Location.parse("s3://lake")) == "p/a"
    assert Location.local("/a/b").relative_to(Location.local("/")) == "a/b"
    assert Location.local("/a/b").relative_to(Location.local("/a/")) == "b"
    assert Location.local("/p/x").is_within(Location.local("/p"))
    assert not Location.local("/px").is_within(Location.local("/p"))
    assert not Location.local("/p").is_within(Location.local("/p/x"))


def test_local_path_of_an_object_store_location_is_refused() -> None:
    with pytest.raises(LocationError, match="s3://lake/x is not a local path"):
        _ = Location.parse("s3://lake/x").local_path


@pytest.mark.parametrize("name", ["orders", "my_table", "t1", "_x", "a.b-c", "0day"])
def test_usual_names_are_their_own_folder(name: str) -> None:
    assert folder_name(name) == name
    assert folder_name(name.upper()) == name


@pytest.mark.parametrize(("name", "slug"), [
    ("a/b", "a_b"),
    ("../x", "x"),
    (".hidden", "hidden"),
    ("..", "_"),
    (".", "_"),
    ("", "_"),
    ("a b", "a_b"),
    ("A B", "a_b"),
    ("数据", "_"),
    ("a\\b", "a_b"),
])
def test_unusual_names_get_a_safe_folder_with_a_hash(name: str, slug: str) -> None:
    digest = hashlib.sha256(name.lower().encode()).hexdigest()[:8]
    assert folder_name(name) == f"{slug}-{digest}"
    assert folder_name("a b") == "a_b-c8687a08"  # stable across runs and versions


def test_distinct_names_stay_distinct() -> None:
    names = ["a b", "a_b", "a-b", "a/b", "a\\b", "a.b", "a  b", "ab", "数据", "数", "..", "."]
    folders = [folder_name(n) for n in names]
    assert len(set(folders)) == len(names)
    assert folder_name("x" * 200) == "x" * 200
    assert len(folder_name("é" * 200)) == len("_-") + 8
    assert len(folder_name("a " * 100)) == 60 + 1 + 8

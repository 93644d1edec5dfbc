from pathlib import Path

import pytest

from lakesmith.errors import SpecError
from lakesmith.locations import Location
from lakesmith.project import find_spec, load_spec


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_spec_fields_as_spark_defines_them(tmp_path: Path) -> None:
    spec_file = write(tmp_path / "spark-pipeline.yml", """
name: orders
storage: file:///tmp/orders-storage
catalog: main
database: sales
configuration:
  source.path: /data/in
  retries: 3
  enabled: true
libraries:
  - glob:
      include: transformations/**
  - glob:
      include: extra/one.sql
""")
    spec = load_spec(spec_file)
    assert spec.name == "orders"
    assert spec.storage == Location.local("/tmp/orders-storage")
    assert (spec.catalog, spec.schema) == ("main", "sales")
    assert spec.configuration == {"source.path": "/data/in", "retries": "3", "enabled": "true"}
    assert spec.libraries == ("transformations/**", "extra/one.sql")
    assert spec.warehouse == Location.local(tmp_path / "warehouse")


def test_schema_is_a_synonym_of_database_and_storage_may_be_relative(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path / "spark-pipeline.yaml",
                           "name: p\nstorage: st\nschema: bronze\n"))
    assert spec.schema == "bronze"
    assert spec.catalog == "spark_catalog"
    assert spec.storage == Location.local(tmp_path / "st")


def test_warehouse_is_configurable(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path / "spark-pipeline.yml", (
        "name: p\nstorage: st\nconfiguration:\n  spark.sql.warehouse.dir: ../wh\n")))
    assert spec.warehouse == Location.local((tmp_path / "../wh").resolve())


@pytest.mark.parametrize("text, words", [
    ("name: p\nstorage: s\ntarget: x\n", ["unknown field 'target'", "spark-pipeline.yml"]),
    ("storage: s\n", ["missing required field 'name'", "spark-pipeline.yml"]),
    ("name: p\n", ["missing required field 'storage'"]),
    ("name: p\nstorage: s\ndatabase: a\nschema: b\n", ["only one of 'database' and 'schema'"]),
    ("name: p\nstorage: s\nconfiguration:\n  k: [1, 2]\n", ["configuration entry 'k'"]),
    ("name: p\nstorage: s\nlibraries:\n  - transformations/**\n", ["libraries[0]"]),
    ("name: [p\n", ["not valid YAML"]),
    ("name: p\nstorage: hdfs://nn/x\n", ["scheme 'hdfs'", "s3://"]),
    ("name: p\nstorage: s3:///x\n", ["no bucket"]),
])
def test_invalid_specs_name_the_field_and_the_file(tmp_path: Path, text: str, words: list[str]) -> None:
    spec_file = write(tmp_path / "spark-pipeline.yml", text)
    with pytest.raises(SpecError) as info:
        load_spec(spec_file)
    for word in words:
        assert word in str(info.value)
    assert str(spec_file) in str(info.value)


def test_spec_is_found_in_ancestors(tmp_path: Path) -> None:
    spec_file = write(tmp_path / "spark-pipeline.yml", "name: p\nstorage: s\n")
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    assert find_spec(nested) == spec_file


def test_missing_and_ambiguous_specs(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="No spark-pipeline.yml found"):
        find_spec(tmp_path)
    write(tmp_path / "spark-pipeline.yml", "name: p\nstorage: s\n")
    write(tmp_path / "spark-pipeline.yaml", "name: p\nstorage: s\n")
    with pytest.raises(SpecError, match="keep only one"):
        find_spec(tmp_path)


def test_library_globs_match_files_below_a_folder_in_stable_order(tmp_path: Path) -> None:
    spec_file = write(tmp_path / "spark-pipeline.yml", (
        "name: p\nstorage: s\nlibraries:\n  - glob:\n      include: t/**\n"
        "  - glob:\n      include: t/b.sql\n"))
    write(tmp_path / "t" / "b.sql", "")
    write(tmp_path / "t" / "a.py", "")
    write(tmp_path / "t" / "sub" / "c.py", "")
    write(tmp_path / "t" / "__pycache__" / "a.cpython-311.pyc", "")
    files = load_spec(spec_file).library_files()
    assert [f.relative_to(tmp_path).as_posix() for f in files] == ["t/a.py", "t/b.sql", "t/sub/c.py"]


def test_storage_and_warehouse_may_be_object_store_uris(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path / "spark-pipeline.yml", (
        "name: p\nstorage: s3a://lake/pipelines/p\nconfiguration:\n"
        "  spark.sql.warehouse.dir: s3://lake/warehouse\n"
        "  spark.hadoop.fs.s3a.endpoint: http://127.0.0.1:9000\n"
        "  spark.hadoop.fs.s3a.access.key: ak\n")))
    assert spec.storage == Location("s3", "lake", "pipelines/p")
    assert spec.storage.uri == "s3://lake/pipelines/p"
    assert spec.warehouse.join("spark_catalog").uri == "s3://lake/warehouse/spark_catalog"
    options = spec.storage.storage_options()
    assert options["AWS_ENDPOINT_URL"] == "http://127.0.0.1:9000"
    assert options["AWS_ACCESS_KEY_ID"] == "ak"
    assert options["AWS_ALLOW_HTTP"] == "true"


def test_an_absolute_library_glob_matches_files_outside_the_project(tmp_path: Path) -> None:
    shared = tmp_path / "shared code"
    write(shared / "a.py", "")
    write(shared / "sub" / "b.sql", "")
    spec_file = write(tmp_path / "project" / "spark-pipeline.yml", (
        f"name: p\nstorage: s\nlibraries:\n  - glob:\n      include: {shared}/**\n"))
    files = load_spec(spec_file).library_files()
    assert [f.relative_to(tmp_path).as_posix() for f in files] == [
        "shared code/a.py", "shared code/sub/b.sql"]

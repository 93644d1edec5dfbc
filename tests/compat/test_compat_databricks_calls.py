"""Databricks-only calls in a pipeline source: `dbutils.fs.ls` lists local (or object) storage,
`display(...)` is ignored with a warning, `spark.sql("USE CATALOG …")` means the pipeline's
catalog; anything else fails naming the call, file and line."""

from __future__ import annotations

from pathlib import Path

import pytest
from compat_helpers import completed, landing_file, load_error, source_warnings

from lakesmith.authoring.source_warnings import SourceWarning
from lakesmith.errors import SourceLoadError


def test_fs_ls_display_and_use_catalog(project, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    landing_file(landing, "eu/a.json", [{"id": 1}], 1_700_000_000)
    landing_file(landing, "us/b.json", [{"id": 2}, {"id": 3}], 1_700_000_000)
    (landing / "README").write_text("x")
    project.write_spec(configuration={"landing": str(landing)})
    path = project.write("transformations/p.py", """
        import dlt

        spark.sql("USE CATALOG spark_catalog")
        entries = dbutils.fs.ls(spark.conf.get("landing"))
        folders = [e.name.rstrip("/") for e in entries if e.name.endswith("/")]

        def region_table(region, folder):
            @dlt.table(name=f"ids_{region}")
            def ids():
                return spark.read.json(folder).selectExpr("id", f"'{region}' AS region")

        for entry in entries:
            if entry.name.endswith("/"):
                region_table(entry.name.rstrip("/"), entry.path)

        display(spark.range(1))
    """)
    with pytest.warns(SourceWarning) as record:
        result = project.run()
    completed(result)
    assert source_warnings(record) == [
        f"{path}:16: display(...) shows nothing in a pipeline run; lakesmith ignores it (query "
        "the table with `lakesmith sql` instead)."]
    assert project.rows("ids_eu") == [{"id": 1, "region": "eu"}]
    assert project.rows("ids_us", order_by="id") == [
        {"id": 2, "region": "us"}, {"id": 3, "region": "us"}]


def test_fs_ls_entries_are_databricks_file_infos(project, tmp_path: Path) -> None:
    from lakesmith.authoring.databricks_runtime import DBUtils, FileInfo
    from lakesmith.locations import Location

    folder = tmp_path / "data"
    landing_file(folder, "b.json", [{"id": 1}], 1_700_000_000)
    (folder / "sub").mkdir()
    project.write_spec()
    from lakesmith.project import load_spec

    entries = DBUtils(load_spec(project.spec_path)).fs.ls(str(folder))
    base = Location.local(folder).uri.rstrip("/")
    assert entries == [
        FileInfo(f"{base}/b.json", "b.json", 10, 1_700_000_000_000),
        FileInfo(f"{base}/sub/", "sub/", 0, (folder / "sub").stat().st_mtime_ns // 1_000_000)]


@pytest.mark.parametrize("call, message", [
    ('dbutils.secrets.get(scope="s", key="k")',
     "dbutils.secrets.get is Databricks-only and has no meaning in a lakesmith pipeline."),
    ('dbutils.notebook.run("other", 60)',
     "dbutils.notebook.run is Databricks-only and has no meaning in a lakesmith pipeline."),
    ('dbutils.fs.ls("dbfs:/mnt/raw")',
     "dbutils.fs.ls('dbfs:/mnt/raw'): Databricks file system paths do not exist outside "
     "Databricks."),
    ('dbutils.fs.ls("no/such/folder")', "dbutils.fs.ls('no/such/folder'): "),
    ('dbutils.fs.rm("x")',
     "dbutils.fs.rm is Databricks-only and has no meaning in a lakesmith pipeline."),
    ('spark.sql("USE CATALOG main")',
     "spark.sql('USE CATALOG main'): the pipeline's tables are in catalog 'spark_catalog'; a "
     "source cannot switch to 'main'."),
])
def test_databricks_only_calls_fail_naming_call_file_and_line(project, call: str,
                                                              message: str) -> None:
    project.write_spec()
    path = project.write("transformations/p.py", f"""
        import dlt

        value = {call}
    """)
    error = load_error(project, SourceLoadError)
    assert error.message.startswith(f"{path}:3: {message}"), error.message


def test_fs_ls_lists_object_storage(project, moto_s3, s3_process_env, s3_root: str) -> None:
    from lakesmith.authoring.databricks_runtime import DBUtils, FileInfo
    from lakesmith.project import load_spec

    client = moto_s3.boto3_client()
    prefix = s3_root.removeprefix(f"s3://{moto_s3.bucket}/")
    client.put_object(Bucket=moto_s3.bucket, Key=f"{prefix}/landing/a.json", Body=b'{"id": 1}\n')
    client.put_object(Bucket=moto_s3.bucket, Key=f"{prefix}/landing/eu/b.json", Body=b"{}\n")
    project.write_spec()
    entries = DBUtils(load_spec(project.spec_path)).fs.ls(f"{s3_root}/landing")
    assert entries == [
        FileInfo(f"{s3_root}/landing/a.json", "a.json", 10, None),
        FileInfo(f"{s3_root}/landing/eu/", "eu/", 0, None)]

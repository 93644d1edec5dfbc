"""Object-storage options from the standard AWS environment and from Hadoop S3A configuration, the
same for delta-rs, obstore and the engine."""

from __future__ import annotations

import pytest

from lakesmith.storage_options import engine_environment, storage_options

KEYS = {"AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "secret"}


@pytest.mark.parametrize("scheme", ["file", "gs", "abfss", "memory"])
def test_only_s3_gets_aws_options(scheme: str) -> None:
    assert storage_options(scheme, {"fs.s3a.access.key": "x"}, KEYS) == {}


def test_the_aws_environment_is_passed_on() -> None:
    environ = {**KEYS, "AWS_SESSION_TOKEN": "t", "AWS_REGION": "eu-west-1", "AWS_PROFILE": "p",
               "AWS_VIRTUAL_HOSTED_STYLE_REQUEST": "true", "AWS_ALLOW_HTTP": "false",
               "AWS_UNRELATED": "x", "HOME": "/root", "AWS_ENDPOINT_URL": ""}
    assert storage_options("s3", {}, environ) == {
        **KEYS, "AWS_SESSION_TOKEN": "t", "AWS_REGION": "eu-west-1", "AWS_PROFILE": "p",
        "AWS_VIRTUAL_HOSTED_STYLE_REQUEST": "true", "AWS_ALLOW_HTTP": "false"}


def test_the_process_environment_is_the_default(monkeypatch) -> None:
    monkeypatch.setenv("AWS_REGION", "ap-south-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT", raising=False)
    assert storage_options("s3", {})["AWS_REGION"] == "ap-south-1"


def test_endpoint_and_region_spellings() -> None:
    assert storage_options("s3", {}, {"AWS_ENDPOINT": "https://minio:9000",
                                      "AWS_DEFAULT_REGION": "us-east-2"}) == {
        "AWS_ENDPOINT_URL": "https://minio:9000", "AWS_REGION": "us-east-2"}
    assert storage_options("s3", {}, {"AWS_ENDPOINT": "https://old", "AWS_ENDPOINT_URL": "https://new",
                                      "AWS_DEFAULT_REGION": "us-east-2",
                                      "AWS_REGION": "eu-west-1"}) == {
        "AWS_ENDPOINT_URL": "https://new", "AWS_REGION": "eu-west-1"}


@pytest.mark.parametrize("prefix", ["spark.hadoop.", ""])
def test_hadoop_s3a_configuration(prefix: str) -> None:
    configuration = {
        f"{prefix}fs.s3a.access.key": "cid", f"{prefix}fs.s3a.secret.key": "csecret",
        f"{prefix}fs.s3a.session.token": "ctoken",
        f"{prefix}fs.s3a.endpoint": "https://s3.example.com",
        f"{prefix}fs.s3a.endpoint.region": "eu-central-1",
        f"{prefix}fs.s3a.path.style.access": "true",
        f"{prefix}fs.s3a.connection.ssl.enabled": "TRUE",
        "spark.sql.shuffle.partitions": "4", "fs.s3a.unknown": "x",
    }
    assert storage_options("s3", configuration, {}) == {
        "AWS_ACCESS_KEY_ID": "cid", "AWS_SECRET_ACCESS_KEY": "csecret",
        "AWS_SESSION_TOKEN": "ctoken", "AWS_ENDPOINT_URL": "https://s3.example.com",
        "AWS_REGION": "eu-central-1", "AWS_VIRTUAL_HOSTED_STYLE_REQUEST": "false",
        "AWS_ALLOW_HTTP": "false"}


def test_configuration_wins_over_the_environment() -> None:
    options = storage_options("s3", {"spark.hadoop.fs.s3a.access.key": "from-spec"},
                              {**KEYS, "AWS_REGION": "r"})
    assert options == {"AWS_ACCESS_KEY_ID": "from-spec", "AWS_SECRET_ACCESS_KEY": "secret",
                       "AWS_REGION": "r"}


def test_ssl_and_path_style_flags() -> None:
    assert storage_options("s3", {"fs.s3a.connection.ssl.enabled": "false",
                                  "fs.s3a.path.style.access": " False "}, {}) == {
        "AWS_ALLOW_HTTP": "true", "AWS_VIRTUAL_HOSTED_STYLE_REQUEST": "true"}


def test_an_http_endpoint_allows_http() -> None:
    assert storage_options("s3", {}, {"AWS_ENDPOINT_URL": "http://127.0.0.1:5000"}) == {
        "AWS_ENDPOINT_URL": "http://127.0.0.1:5000", "AWS_ALLOW_HTTP": "true"}
    assert storage_options("s3", {"fs.s3a.endpoint": "http://minio:9000"}, {}) == {
        "AWS_ENDPOINT_URL": "http://minio:9000", "AWS_ALLOW_HTTP": "true"}
    # An explicit choice is kept.
    assert storage_options("s3", {"fs.s3a.endpoint": "http://minio:9000"},
                           {"AWS_ALLOW_HTTP": "false"})["AWS_ALLOW_HTTP"] == "false"
    assert "AWS_ALLOW_HTTP" not in storage_options(
        "s3", {}, {"AWS_ENDPOINT_URL": "https://minio:9000"})


def test_engine_environment_has_both_endpoint_spellings() -> None:
    options = {"AWS_ENDPOINT_URL": "http://e", "AWS_REGION": "r"}
    assert engine_environment(options) == {"AWS_ENDPOINT_URL": "http://e", "AWS_ENDPOINT": "http://e",
                                           "AWS_REGION": "r"}
    assert engine_environment({"AWS_REGION": "r"}) == {"AWS_REGION": "r"}
    assert options == {"AWS_ENDPOINT_URL": "http://e", "AWS_REGION": "r"}  # not changed

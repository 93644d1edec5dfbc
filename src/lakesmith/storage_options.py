"""Credentials and endpoints for object storage, from where users already keep them.

The standard `AWS_*` environment variables, and the spec's `configuration` under the names Spark
users write for Hadoop's S3A connector (`spark.hadoop.fs.s3a.endpoint`, ...). The same options
reach delta-rs, lakesmith's own file access (obstore) and the embedded engine, so every component
sees the same bucket with the same credentials.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

# Hadoop S3A configuration (with or without the `spark.hadoop.` prefix) -> object_store keys.
S3A_KEYS = {
    "fs.s3a.access.key": "AWS_ACCESS_KEY_ID",
    "fs.s3a.secret.key": "AWS_SECRET_ACCESS_KEY",
    "fs.s3a.session.token": "AWS_SESSION_TOKEN",
    "fs.s3a.endpoint": "AWS_ENDPOINT_URL",
    "fs.s3a.endpoint.region": "AWS_REGION",
}
# Environment variables passed on as they are (object_store and delta-rs read these names).
AWS_ENVIRONMENT = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                   "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT",
                   "AWS_ALLOW_HTTP", "AWS_VIRTUAL_HOSTED_STYLE_REQUEST", "AWS_PROFILE")


def storage_options(scheme: str, configuration: Mapping[str, str],
                    environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The options for one URI scheme; empty for local files."""
    if scheme != "s3":
        return {}
    environ = os.environ if environ is None else environ
    options = {key: environ[key] for key in AWS_ENVIRONMENT if environ.get(key)}
    if "AWS_ENDPOINT" in options and "AWS_ENDPOINT_URL" not in options:
        options["AWS_ENDPOINT_URL"] = options["AWS_ENDPOINT"]
    options.pop("AWS_ENDPOINT", None)
    if "AWS_DEFAULT_REGION" in options:
        options.setdefault("AWS_REGION", options["AWS_DEFAULT_REGION"])
        del options["AWS_DEFAULT_REGION"]
    for key, value in configuration.items():
        plain = key.removeprefix("spark.hadoop.")
        if plain in S3A_KEYS:
            options[S3A_KEYS[plain]] = value
        elif plain == "fs.s3a.connection.ssl.enabled":
            options["AWS_ALLOW_HTTP"] = "false" if value.strip().lower() == "true" else "true"
        elif plain == "fs.s3a.path.style.access":
            options["AWS_VIRTUAL_HOSTED_STYLE_REQUEST"] = \
                "false" if value.strip().lower() == "true" else "true"
    endpoint = options.get("AWS_ENDPOINT_URL", "")
    if endpoint.lower().startswith("http://"):
        options.setdefault("AWS_ALLOW_HTTP", "true")
    return options


def engine_environment(options: Mapping[str, str]) -> dict[str, str]:
    """What the embedded engine must find in the process environment to reach the same store
    (it reads the standard variables when it starts)."""
    env = dict(options)
    if "AWS_ENDPOINT_URL" in env:
        env.setdefault("AWS_ENDPOINT", env["AWS_ENDPOINT_URL"])
    return env

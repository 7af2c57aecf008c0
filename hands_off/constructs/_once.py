"""CDK values made once per process (issue 9): each one made is a jsii round trip, paid once per
pipeline (or per copy) otherwise.

Only values that are immutable and bound to no construct or stack: a ``Duration``, a
``ServicePrincipal`` (a principal is rendered anew in each statement that names it), a static
enum-like member, a pseudo-parameter token (the same ``Ref`` in every stack).
"""

from __future__ import annotations

from functools import cache

from aws_cdk import Aws, Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3

__all__ = ["account_id", "block_all", "days", "minutes", "partition", "seconds", "service_principal"]


@cache
def seconds(amount: int) -> Duration:
    """``Duration.seconds(amount)``."""
    return Duration.seconds(amount)


@cache
def minutes(amount: int) -> Duration:
    """``Duration.minutes(amount)``."""
    return Duration.minutes(amount)


@cache
def days(amount: int) -> Duration:
    """``Duration.days(amount)``."""
    return Duration.days(amount)


@cache
def service_principal(service: str) -> iam.ServicePrincipal:
    """``iam.ServicePrincipal(service)``, without conditions."""
    return iam.ServicePrincipal(service)


@cache
def block_all() -> s3.BlockPublicAccess:
    """``s3.BlockPublicAccess.BLOCK_ALL``."""
    return s3.BlockPublicAccess.BLOCK_ALL


@cache
def partition() -> str:
    """``Aws.PARTITION`` (a token for ``{"Ref": "AWS::Partition"}``)."""
    return Aws.PARTITION


@cache
def account_id() -> str:
    """``Aws.ACCOUNT_ID`` (a token for ``{"Ref": "AWS::AccountId"}``)."""
    return Aws.ACCOUNT_ID

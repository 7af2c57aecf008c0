"""Stacks: the service pipeline every service inherits, the application stack it deploys, and the
account-region baseline every service of an account and region shares."""

from __future__ import annotations

from hands_off.stacks.account_baseline import AccountBaseline, add_account_baselines
from hands_off.stacks.application_stack import ApplicationStack, ApplicationStage
from hands_off.stacks.service_pipeline import ServicePipeline

__all__ = [
    "AccountBaseline",
    "ApplicationStack",
    "ApplicationStage",
    "ServicePipeline",
    "add_account_baselines",
]

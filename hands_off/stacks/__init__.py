"""Stacks: the service pipeline every service inherits, the application stack it deploys, and the
account-region baseline every service of an account and region shares, and the gate roles every
pipeline of a tooling account and region shares."""

from __future__ import annotations

from hands_off.stacks.account_baseline import AccountBaseline, add_account_baselines
from hands_off.stacks.application_stack import ApplicationStack, ApplicationStage
from hands_off.stacks.gate_roles import GateRoles, add_gate_roles
from hands_off.stacks.service_pipeline import ServicePipeline

__all__ = [
    "AccountBaseline",
    "ApplicationStack",
    "ApplicationStage",
    "GateRoles",
    "ServicePipeline",
    "add_account_baselines",
    "add_gate_roles",
]

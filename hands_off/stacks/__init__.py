"""Stacks: the service pipeline every service inherits, and the application stack it deploys."""

from __future__ import annotations

from hands_off.stacks.application_stack import ApplicationStack, ApplicationStage
from hands_off.stacks.service_pipeline import ServicePipeline

__all__ = ["ApplicationStack", "ApplicationStage", "ServicePipeline"]

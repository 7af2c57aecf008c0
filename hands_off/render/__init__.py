"""Renderers: turn a :class:`~hands_off.blueprint.PipelinePlan` into constructs of one engine.

Today one engine, CDK Pipelines on CodePipeline V2 (:mod:`hands_off.render.codepipeline`).
"""

"""``hands-off check``: deployment-safety rules over any synthesized cloud assembly.

Pure Python over ``cdk.out`` (no ``aws_cdk`` import): the rules judge hand-written CDK Pipelines,
apps in any CDK language and hands-off's own output alike. Each rule is a pure function (cdk-nag's
shape) of an :class:`~hands_off.assembly.Assembly` and one of its pipelines, or, for the rules on
one production copy, of that copy; it yields :class:`Finding` s with a location (pipeline, stage,
stack, logical id) and a one-line fix. The same rules run inside a synth as a cdk-nag pack
(:class:`hands_off.safety.DeploymentSafetyChecks`), through :class:`ResourceJudge`.

Example::

    from hands_off.assembly import Assembly
    from hands_off.check import Waiver, run

    report = run(Assembly.read("cdk.out"), waivers=[Waiver.parse("HO-W3:orders-application:why")])
    print(report.table())          # or report.render("sarif")
    assert not report.failed

How production is recognized: see :meth:`hands_off.assembly.Assembly.production_stages`.
"""

from __future__ import annotations

from hands_off.check.packs import DEPLOYMENT_SAFETY, PackedRule, catalog
from hands_off.check.report import Report, run
from hands_off.check.resource_judge import ResourceJudge
from hands_off.check.rule import CheckRule, Finding, Level, Location, Waiver
from hands_off.check.waivers import load_waivers, waivers_from_mapping

__all__ = [
    "DEPLOYMENT_SAFETY",
    "CheckRule",
    "Finding",
    "Level",
    "Location",
    "PackedRule",
    "Report",
    "ResourceJudge",
    "Waiver",
    "catalog",
    "load_waivers",
    "run",
    "waivers_from_mapping",
]

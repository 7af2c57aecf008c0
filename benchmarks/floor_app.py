"""The floor for `make bench`: the plain CDK Pipelines app (``baseline_app.py``) plus the two things
every hands-off synth does whatever its pipelines hold, so that what hands-off's own pipelines cost
can be told apart from what its fixed obligations cost:

- **cdk-nag**: the AwsSolutions checks run as a validation plugin, as ``hands_off.nag.apply_nag``
  adds them (the fleet app also runs hands-off's own deployment-safety pack; it is not added here);
- **the shared stacks**: one ``AccountBaseline`` per account and region the services' stages
  deploy to (the paging topic and its key, the CodeDeploy applications, the access-log and signing
  buckets) and the tooling account's ``GateRoles``, as ``hands_off.stacks.add_account_baselines``
  adds them to a hands-off app (and the issue asked for: one baseline per account and region).

Nothing else of hands-off: no gates, alarms, signing or rollback. A hands-off synth cannot be
faster than this floor without dropping cdk-nag or the shared stacks from ``make synth``.
The plain app's templates do not pass cdk-nag (nothing acknowledges its findings); with the
bench's settings (``@aws-cdk/core:failSynthOnValidationErrors`` off) the synth still completes,
so the timing covers the whole run.

Environment: as ``baseline_app.py`` (``HANDS_OFF_BENCH_SERVICES``, ``HANDS_OFF_BENCH_FLEET``,
``CDK_OUTDIR``, ``CDK_CONTEXT_JSON``). Run: ``python benchmarks/floor_app.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks

from benchmarks.baseline_app import PRE, PREPROD, PROD, TOOLING, WAVES, BaselinePipeline, services
from hands_off.stacks.account_baseline import AccountBaseline
from hands_off.stacks.gate_roles import GateRoles

TOOLING_REGION = "us-east-1"


def shared_environments() -> list[tuple[str, str]]:
    """(account, region) of every account baseline a hands-off app of this topology gets: the
    tooling account's region and each region a stage deploys to, in each stage's account."""
    envs = {(TOOLING, TOOLING_REGION): None}
    for account, waves in ((PREPROD, PRE), (PROD, WAVES)):
        for _, regions in waves:
            for region in regions:
                envs[(account, region)] = None
    return list(envs)


def main() -> None:
    app = App()
    for name, code in services():
        BaselinePipeline(app, f"Baseline{name.capitalize()}Pipeline", service=name, code=code)
    for account, region in shared_environments():
        AccountBaseline(app, account=account, region=region)
    GateRoles(app, account=TOOLING, region=TOOLING_REGION)
    Validations.of(app).add_plugins(AwsSolutionsChecks())
    app.synth()


if __name__ == "__main__":
    main()

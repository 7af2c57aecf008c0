"""The deployment-gate runtime of hands-off: the Lambda code behind every gate and bake (P14-P16).

It ships inside the ``hands-off`` wheel and is bundled, with the pinned ``tzdata``, as one Lambda
asset by :class:`hands_off.constructs.deployment_gates.DeploymentGates`; its two functions run
``hands_off_gates.dispatch.handler`` (the six checks, each task naming its module) and
``hands_off_gates.hotfix.handler``. It depends on the standard library and boto3 only (both on
the Lambda runtime) and imports nothing from ``hands_off``.

Modules: ``alarms`` (app and org alarms), ``time_window`` (windows and blackouts), ``override``
(the developer override), ``decide`` (combines the checks), ``bake`` (watch after a wave),
``execution`` (is this execution a rollback?), ``hotfix`` (turn the copies' CodeDeploy alarm
rollback off for a hotfix, and back on); ``dispatch`` (the checks function's handler: runs the
module the event names); ``handler`` (the one wrapper that makes each pure
core a fail-closed Lambda handler), ``contract`` (the names and input shapes the library and the
runtime share), ``gate_common`` (shared helpers).
"""

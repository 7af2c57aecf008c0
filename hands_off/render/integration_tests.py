"""The integration tests of a pipeline: one CodeBuild project for every test action.

CDK Pipelines' ``CodeBuildStep`` makes a CodeBuild project per step, so a pipeline had one per
pre-production copy and one for Zeta, all with the same role, image and pinned installs. Here one
project (:class:`IntegrationTests`) runs them all: each action (:class:`IntegrationTestStep`)
passes what differs as environment variables of its CodePipeline CodeBuild action, which CodeBuild
lays over the project's own for that build.

- A pre-production action sets ``ENDPOINTS`` to its copy's endpoint: the endpoint itself when it
  is known at synth (a Lambda copy's alias ARN), else the copy's endpoint output, through the
  CodePipeline variable of the copy's deploy action, exactly as ``CodeBuildStep``'s
  ``env_from_cfn_outputs`` does (the step declares the output it consumes, so CDK Pipelines gives
  the deploy action its variables namespace and orders the test after it). Either way the action
  is a step after its copy's stage (``post``): it runs once the copy is deployed. A known endpoint
  spares CDK Pipelines asking the Python step for its outputs, a jsii callback each time (about
  thirty per step).
- Zeta's action sets :data:`ZETA_VARIABLE` and ``SKIP_NOT_DEPLOYED``. Its endpoints (every
  production copy's, or what it needs to read them from their stacks) stay in the project's
  environment under Zeta's own names: a CodePipeline action configuration value holds at most
  1,000 characters, too few for a fleet's endpoints. Zeta's commands, where they differ from the
  pre-production ones, run only when :data:`ZETA_VARIABLE` is set, and those only for
  pre-production only when it is not (:func:`build_commands`). Lambda copies' Zeta tests run one
  action per production account (:data:`ZETA_VARIABLE` is the account; its endpoints are the
  project variable :func:`zeta_endpoints_variable` of that account).
- An action testing Lambda copies names, in :data:`INVOKER_ROLE_VARIABLE`, the ``canary`` role of
  the account it tests (``ServiceAccessStack``: it may invoke the service's ``live`` aliases only,
  and trusts the pipeline's integration-test role). The buildspec's first build command
  (:func:`invoker_profile_command`) makes that role the default profile of a shared config file,
  assumed from the build's own credentials: the tests call ``boto3`` (or any SDK) as they are, and
  no copy needs a Lambda permission for them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import jsii
from aws_cdk import CfnOutput, pipelines
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_codepipeline_actions as cp_actions
from aws_cdk import aws_iam as iam
from constructs import Construct

from hands_off.render import pins

__all__ = [
    "INVOKER_ROLE_VARIABLE",
    "ZETA_ENDPOINTS",
    "ZETA_VARIABLE",
    "IntegrationTestStep",
    "IntegrationTests",
    "StackOutputIntegrationTestStep",
    "build_commands",
    "invoker_profile_command",
    "zeta_endpoints_variable",
]

ZETA_VARIABLE = "HANDS_OFF_ZETA"
"""Set (to ``1``) by Zeta's action only: selects Zeta's commands in the shared buildspec."""

ZETA_ENDPOINTS = "ZETA_ENDPOINTS"
"""The prefix of the project variables holding the production endpoints Zeta tests when they are
known at synth, one per account (:func:`zeta_endpoints_variable`); Zeta's first command copies its
account's into ``ENDPOINTS``."""


INVOKER_ROLE_VARIABLE = "HANDS_OFF_INVOKER_ROLE"
"""Set by an action testing Lambda copies: the role its tests invoke them as (the tested account's
``canary`` role)."""

_AWS_CONFIG = "/tmp/hands-off-aws-config"


def zeta_endpoints_variable(account: str) -> str:
    """The project variable holding the production endpoints in ``account`` Zeta tests."""
    return f"{ZETA_ENDPOINTS}_{account}"


def invoker_profile_command() -> str:
    """The buildspec's first build command: when the action names a role
    (:data:`INVOKER_ROLE_VARIABLE`), a shared config file whose default profile assumes it from the
    build's container credentials (``credential_source = EcsContainer``), for every later
    command; otherwise nothing (the build's own credentials)."""
    lines = [
        f"export AWS_CONFIG_FILE={_AWS_CONFIG}",
        f'printf "[default]\\nrole_arn = %s\\ncredential_source = EcsContainer\\n'
        f'role_session_name = hands-off-integration-tests\\n" "${INVOKER_ROLE_VARIABLE}" > {_AWS_CONFIG}',
        "export AWS_SDK_LOAD_CONFIG=1",
    ]
    return _when(f'[ -n "${{{INVOKER_ROLE_VARIABLE}:-}}" ]', "\n".join(lines))


def _when(condition: str, command: str) -> str:
    """``command`` run only when the shell test ``condition`` holds; its exit status is the
    command's (0 when skipped). On lines of their own: a command may be a multi-line heredoc."""
    return f"if {condition}; then\n{command}\nfi"


def build_commands(preproduction: Sequence[str], zeta: Sequence[str]) -> list[str]:
    """The shared buildspec's build commands: the commands both lists end with, run by every
    action, after each list's own leading commands, run only by its actions (selected by
    :data:`ZETA_VARIABLE`). Identical lists come back as they are."""
    common = 0
    while common < min(len(preproduction), len(zeta)) and preproduction[-1 - common] == zeta[-1 - common]:
        common += 1
    is_zeta = f'[ -n "${{{ZETA_VARIABLE}:-}}" ]'
    is_not_zeta = f'[ -z "${{{ZETA_VARIABLE}:-}}" ]'
    return [
        *(_when(is_zeta, c) for c in zeta[: len(zeta) - common]),
        *(_when(is_not_zeta, c) for c in preproduction[: len(preproduction) - common]),
        *preproduction[len(preproduction) - common :],
    ]


class IntegrationTests:
    """The one CodeBuild project of a pipeline's integration tests, and its steps.

    Example::

        tests = IntegrationTests(pipeline, "IntegrationTests", role=role, build_image=image,
                                 commands=["python integ_test.py"], zeta_commands=[...],
                                 zeta_env={"ZETA_ENDPOINTS": "arn:...,arn:..."})
        wave.add_stage(stage, post=[tests.step("Alpha-IntegrationTest", endpoints=stage.endpoint_output)])
        # or, when the endpoint is known at synth (a Lambda copy's alias ARN):
        tests.step("Alpha-IntegrationTest", endpoints="arn:aws:lambda:...:function:orders-alpha:live")
        zeta.add_post(tests.zeta_step("Zeta-IntegrationTest"))

    Args:
        scope: where the project is made (the ``pipelines.CodePipeline``: nag finds its projects there).
        construct_id: the project's id.
        role: the role the tests run with.
        build_image: the image of every project of the pipeline.
        commands: the tests, run against ``$ENDPOINTS``.
        zeta_commands: Zeta's commands (they may first work out ``$ENDPOINTS``).
        zeta_env: what Zeta's commands read besides :data:`ZETA_VARIABLE`: project variables,
            named so that no pre-production command reads them.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        role: iam.IRole,
        build_image: codebuild.IBuildImage,
        commands: Sequence[str],
        zeta_commands: Sequence[str],
        zeta_env: Mapping[str, str],
    ) -> None:
        spec: dict[str, Any] = {
            "version": "0.2",
            "phases": {
                "install": {"commands": pins.install_commands()},  # boto3 and its dependencies, by sha256
                "build": {"commands": [invoker_profile_command(), *build_commands(commands, zeta_commands)]},
            },
        }
        self.project = codebuild.PipelineProject(
            scope,
            construct_id,
            description="Integration tests of every pre-production copy and of Zeta",
            environment=codebuild.BuildEnvironment(
                build_image=build_image,
                compute_type=codebuild.ComputeType.SMALL,
                environment_variables={
                    name: codebuild.BuildEnvironmentVariable(value=value) for name, value in zeta_env.items()
                },
            ),
            build_spec=codebuild.BuildSpec.from_object(spec),
            role=role,
        )

    def step(
        self, step_id: str, *, endpoints: CfnOutput | str, invoker_role: str | None = None
    ) -> IntegrationTestStep:
        """The tests of one pre-production copy, against its ``endpoints``: the endpoint itself
        when known at synth (invoked as ``invoker_role``), else the copy's output holding it."""
        if isinstance(endpoints, str):
            env = {"ENDPOINTS": endpoints}
            if invoker_role is not None:
                env[INVOKER_ROLE_VARIABLE] = invoker_role
            return IntegrationTestStep(step_id, project=self.project, env=env)
        return StackOutputIntegrationTestStep(step_id, project=self.project, endpoints=endpoints)

    def zeta_step(
        self, step_id: str, *, account: str | None = None, invoker_role: str | None = None
    ) -> IntegrationTestStep:
        """Zeta's tests, against every production copy (in ``account``, invoked as
        ``invoker_role``, when given); a copy not deployed yet is skipped."""
        env = {ZETA_VARIABLE: account or "1", "SKIP_NOT_DEPLOYED": "1"}
        if invoker_role is not None:
            env[INVOKER_ROLE_VARIABLE] = invoker_role
        return IntegrationTestStep(step_id, project=self.project, env=env)


@jsii.implements(pipelines.ICodePipelineActionFactory)
class IntegrationTestStep(pipelines.Step):
    """A CodeBuild action of the shared integration-test project, with its own variables.

    Args:
        step_id: the action's name, unique in its stage.
        project: the shared project (:attr:`IntegrationTests.project`).
        env: variables of the action (a few hundred characters: the action's configuration holds
            at most 1,000). Default: none.
    """

    def __init__(
        self,
        step_id: str,
        *,
        project: codebuild.IProject,
        env: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(step_id)
        self._project = project
        self._env = dict(env or {})

    def _variables(self, options: pipelines.ProduceActionOptions) -> dict[str, str]:
        """The action's environment variables (a subclass adds what it reads from ``options``)."""
        return dict(self._env)

    def produce_action(
        self, stage: codepipeline.IStage, options: pipelines.ProduceActionOptions
    ) -> pipelines.CodePipelineActionFactoryResult:
        """One CodeBuild action on the source (as CDK Pipelines gives a step without input), its
        variables laid over the project's. No action role: the pipeline's role runs its actions
        (``use_pipeline_role_for_actions``)."""
        source = options.fallback_artifact
        if source is None:  # CDK Pipelines' own message for a step without input or source
            raise ValueError(f"CodeBuild action {self.id!r} requires an input and the pipeline has no source")
        env = self._variables(options)
        stage.add_action(
            cp_actions.CodeBuildAction(
                action_name=options.action_name,
                run_order=options.run_order,
                project=self._project,
                input=source,
                variables_namespace=options.variables_namespace,
                environment_variables={
                    name: codebuild.BuildEnvironmentVariable(value=value) for name, value in env.items()
                }
                or None,
            )
        )
        return pipelines.CodePipelineActionFactoryResult(run_orders_consumed=1)


class StackOutputIntegrationTestStep(IntegrationTestStep):
    """An :class:`IntegrationTestStep` whose ``ENDPOINTS`` is a copy's endpoint output, read from
    the copy's deploy action (CDK Pipelines exports its variables and orders the test after it).

    Args:
        step_id: the action's name, unique in its stage.
        project: the shared project (:attr:`IntegrationTests.project`).
        endpoints: the copy's endpoint output.
    """

    def __init__(self, step_id: str, *, project: codebuild.IProject, endpoints: CfnOutput) -> None:
        super().__init__(step_id, project=project)
        self._outputs = [pipelines.StackOutputReference.from_cfn_output(endpoints)]

    @property
    def consumed_stack_outputs(self) -> list[pipelines.StackOutputReference]:
        """The endpoint output this step reads: CDK Pipelines then exports the producing deploy
        action's variables and puts this step after it (what ``ShellStep`` does for
        ``env_from_cfn_outputs``)."""
        return list(self._outputs)

    def _variables(self, options: pipelines.ProduceActionOptions) -> dict[str, str]:
        env = super()._variables(options)
        for output in self._outputs:
            env["ENDPOINTS"] = options.stack_outputs_map.to_code_pipeline(output)
        return env

"""Issue 8, items 7 and 2 (pipeline side): paging that reaches someone, and overrides that page.

Before the fix, the 26 paging topics of the example fleet had no subscription (their alarms paged
nobody, silently), nothing alarmed on ``OverrideUsed``, and no IAM policy said who may write the
override parameter.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Environment, Stack
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template

from hands_off.constructs.alarm_factory import UNSUBSCRIBED_PAGING_WARNING, new_paging_topic
from hands_off.deployment import Deployment
from hands_off.example import OrdersPipeline
from hands_off.render.codepipeline import _override_used_alarms
from hands_off.stacks import AccountBaseline
from hands_off.testing import app_context
from tests.iam_permissions import identity_statements

SERVICES = ("orders", "catalog")


def incidents(service: str) -> str:
    """The example's incident-tool endpoint of ``service`` (one per service: SNS keeps one
    subscription per topic and endpoint, and the services share each account-region's topic)."""
    return f"https://incidents.example.com/hooks/hands-off/{service}"


def flat(value: Any) -> Any:
    """``Fn::Join`` joined, ``AWS::Partition`` as ``aws``: ARNs compare as strings."""
    if isinstance(value, dict) and set(value) == {"Fn::Join"}:
        separator, parts = value["Fn::Join"]
        return separator.join(str(flat(p)) for p in parts)
    if value == {"Ref": "AWS::Partition"}:
        return "aws"
    return value


def warnings_in(outdir: Path) -> list[tuple[str, str]]:
    """(construct path, message) of every warning in a cloud assembly, nested stages included
    (each stack's metadata is in its ``<artifact>.metadata.json``)."""
    found = []
    for metadata in outdir.rglob("*.metadata.json"):
        for path, entries in json.loads(metadata.read_text()).items():
            found += [(path, str(e["data"])) for e in entries if e["type"] == "aws:cdk:warning"]
    return found


def subscriptions_of(stack: Stack, topic: sns.ITopic) -> list[dict[str, Any]]:
    ref = stack.resolve(topic.topic_arn)
    subscriptions = Template.from_stack(stack).find_resources("AWS::SNS::Subscription").values()
    return [s["Properties"] for s in subscriptions if s["Properties"]["TopicArn"] == ref]


# ------------------------------------------------------------------------ paging reaches someone


@pytest.mark.parametrize("service", SERVICES)
def test_every_copy_pages_someone(fleet: Any, service: str) -> None:
    # The example's hook: production pages the incident tool (HTTPS), pre-production mails the team.
    # One subscription per account-region topic and endpoint, made by the first of the pipeline's
    # copies there to deploy, filtered to the alarms of every copy there that pages it.
    pipeline = fleet.pipeline(service)
    assert len(pipeline.rendered.stages) == 13
    made: dict[tuple[str, str, str], list[tuple[str, dict[str, Any]]]] = {}
    for stage in pipeline.rendered.stages:
        for props in subscriptions_of(stage.stack, stage.paging_topic):
            key = (props["TopicArn"], props["Protocol"], props["Endpoint"])
            made.setdefault(key, []).append((stage.stack.node.path, props))
    first_in: dict[str, str] = {}  # topic ARN -> the first copy's stack there, in pipeline order
    for stage in pipeline.rendered.stages:
        deployment = stage.stack.deployment
        topic = (
            f"arn:aws:sns:{deployment.target.region}:{deployment.target.account.account_id}:hands-off-paging"
        )
        first_in.setdefault(topic, stage.stack.node.path)
        if deployment.production:
            protocol, endpoint = "https", incidents(service)
        else:
            protocol, endpoint = "email", f"{service}-team@example.com"
        [(path, subscription)] = made[(topic, protocol, endpoint)]
        assert path == first_in[topic]
        assert subscription["FilterPolicyScope"] == "MessageBody"
        assert {"prefix": f"{deployment.function_name}-"} in subscription["FilterPolicy"]["AlarmName"]
    # Alpha, Beta and Gamma share the pre-production account's us-west-2 topic: one subscription
    preprod = made[
        ("arn:aws:sns:us-west-2:222222222222:hands-off-paging", "email", f"{service}-team@example.com")
    ]
    [(path, subscription)] = preprod
    assert path.endswith("/Alpha/App")
    assert subscription["FilterPolicy"] == {
        "AlarmName": [{"prefix": f"{service}-{stage}-"} for stage in ("alpha", "beta", "gamma")]
    }


@pytest.mark.parametrize("service", SERVICES)
def test_the_pipeline_pages_the_incident_tool_through_the_tooling_accounts_topic(
    fleet: Any, service: str
) -> None:
    pipeline = fleet.pipeline(service)
    topic = pipeline.rendered.paging_topic
    assert pipeline.resolve(topic.topic_arn) == "arn:aws:sns:us-east-1:111111111111:hands-off-paging"
    [subscription] = subscriptions_of(pipeline, topic)
    assert (subscription["Protocol"], subscription["Endpoint"]) == ("https", incidents(service))
    assert subscription["FilterPolicy"] == {"AlarmName": [{"prefix": f"{service}-application-"}]}
    # no topic or key of its own: only CDK Pipelines' artifact key is left (issue 9)
    template = Template.from_stack(pipeline)
    template.resource_count_is("AWS::SNS::Topic", 0)
    template.resource_count_is("AWS::KMS::Key", 1)


def test_one_subscription_per_topic_protocol_and_endpoint(fleet: Any) -> None:
    """SNS keeps one subscription per topic, protocol and endpoint: a second ``Subscribe`` with
    other attributes (another filter) fails ("Subscription already exists with different
    attributes"), so the second stack's deploy fails; with the same attributes it returns the first
    subscription, and deleting either stack then unsubscribes both. Before the fix, the example
    fleet made 56 subscriptions for 18 such keys: Alpha, Beta and Gamma mailing their team through
    one account-region's topic, and the four services' production copies and pipelines posting to
    one incident URL through the same topics."""
    made: dict[tuple[str, str, str], list[str]] = {}
    stacks = list(fleet.pipelines) + [s.stack for p in fleet.pipelines for s in p.rendered.stages]
    for stack in stacks:
        for logical_id, resource in (
            Template.from_stack(stack).find_resources("AWS::SNS::Subscription").items()
        ):
            props = resource["Properties"]
            key = (json.dumps(props["TopicArn"]), props["Protocol"], json.dumps(props["Endpoint"]))
            made.setdefault(key, []).append(f"{stack.node.path}/{logical_id}")
    assert {key: owners for key, owners in made.items() if len(owners) > 1} == {}


def test_no_copy_stack_makes_a_key_or_a_topic(fleet: Any) -> None:
    # Issue 9: 15 KMS keys per added service before (one per copy, 13, plus the pipeline's two).
    for pipeline in fleet.pipelines:
        for stage in pipeline.rendered.stages:
            template = Template.from_stack(stage.stack)
            template.resource_count_is("AWS::KMS::Key", 0)
            template.resource_count_is("AWS::SNS::Topic", 0)


def sns_body_filter_matches(policy: dict[str, Any], message: dict[str, Any]) -> bool:
    """SNS message-body filtering for the rules hands-off uses (string prefixes, exact strings)."""
    return all(
        key in message
        and any(
            (isinstance(rule, dict) and str(message[key]).startswith(rule["prefix"])) or rule == message[key]
            for rule in rules
        )
        for key, rules in policy.items()
    )


def test_each_subscription_receives_its_own_alarms_and_no_other_services(fleet: Any) -> None:
    """Every alarm paging a shared topic, in every account-region of the example fleet (four
    services, their copies and pipelines), reaches the subscriptions of its own copy or pipeline
    only (the endpoint its own service's hook names for it; a subscription shared by the copies of
    one account-region is one endpoint): evaluated on the CloudWatch notification body each alarm
    would publish."""
    paging: dict[str, list[tuple[str, str]]] = {}  # topic ARN -> (owner stack path, alarm name)
    subscribed: dict[str, list[tuple[str, dict[str, Any]]]] = {}  # topic ARN -> (endpoint, filter)
    stacks = list(fleet.pipelines) + [s.stack for p in fleet.pipelines for s in p.rendered.stages]
    expected = {p.node.path: incidents(p.service_name) for p in fleet.pipelines} | {
        s.stack.node.path: incidents(p.service_name)
        if s.stack.deployment.production
        else f"{p.service_name}-team@example.com"
        for p in fleet.pipelines
        for s in p.rendered.stages
    }
    for stack in stacks:
        template = Template.from_stack(stack).to_json()
        for resource in template["Resources"].values():
            props = resource.get("Properties", {})
            if resource["Type"] in ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm"):
                for arn in {a for a in props.get("AlarmActions", []) if isinstance(a, str)}:
                    if arn.endswith(":hands-off-paging"):
                        paging.setdefault(arn, []).append((stack.node.path, props["AlarmName"]))
            if resource["Type"] == "AWS::SNS::Subscription" and str(props["TopicArn"]).endswith(
                ":hands-off-paging"
            ):
                subscribed.setdefault(props["TopicArn"], []).append(
                    (props["Endpoint"], props["FilterPolicy"])
                )
    assert len(paging) == 12  # account-regions
    shared = [arn for arn, alarms in paging.items() if len({owner for owner, _ in alarms}) > 2]
    assert shared  # topics several services' copies page
    for arn, alarms in paging.items():
        for owner, alarm in alarms:
            message = {"AlarmName": alarm, "NewStateValue": "ALARM", "AlarmDescription": "..."}
            receivers = [url for url, policy in subscribed[arn] if sns_body_filter_matches(policy, message)]
            assert receivers == [expected[owner]], (arn, alarm)


def test_the_example_fleet_synthesizes_without_an_unsubscribed_topic(fleet: Any) -> None:
    assert [w for w in warnings_in(fleet.outdir) if UNSUBSCRIBED_PAGING_WARNING in w[1]] == []


@pytest.fixture(scope="module")
def silent(repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The orders pipeline with the default hook (no subscriptions), synthesized."""

    class SilentOrders(OrdersPipeline):
        def paging_subscriptions(self, deployment: Deployment | None) -> list[sns.ITopicSubscription]:
            return []

    outdir = tmp_path_factory.mktemp("silent")
    app = App(context=app_context(repo_root / "cdk.json"), outdir=str(outdir))
    SilentOrders(app)
    app.synth()
    return outdir


def test_a_paging_topic_without_a_subscription_is_a_synth_warning(silent: Path) -> None:
    paths = sorted(p for p, message in warnings_in(silent) if UNSUBSCRIBED_PAGING_WARNING in message)
    # one per copy (13) and the pipeline's own, on the shared topic each imports
    assert len(paths) == 14
    assert "/OrdersPipeline/HandsOffPagingTopic" in paths
    assert "/OrdersPipeline/Prod-1/App/HandsOffPagingTopic" in paths


# --------------------------------------------------------------------------------- overrides


@pytest.mark.parametrize("service", SERVICES)
def test_an_override_used_pages_the_tooling_topic(fleet: Any, service: str) -> None:
    pipeline = fleet.pipeline(service)
    template = Template.from_stack(pipeline)
    topic_ref = pipeline.resolve(pipeline.rendered.paging_topic.topic_arn)
    [alarm] = [
        a["Properties"]
        for a in template.find_resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"]["AlarmName"] == f"{service}-application-override-used"
    ]
    assert alarm["AlarmActions"] == [topic_ref]
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
    assert (alarm["EvaluationPeriods"], alarm["TreatMissingData"]) == (1, "notBreaching")
    metrics = {m["Id"]: m for m in alarm["Metrics"]}
    [expression] = [m for m in metrics.values() if "Expression" in m]
    assert expression["ReturnData"] is True
    watched = {
        m["Id"]: {d["Name"]: d["Value"] for d in m["MetricStat"]["Metric"]["Dimensions"]}
        for m in metrics.values()
        if "MetricStat" in m
    }
    assert expression["Expression"] == f"SUM([{','.join(sorted(watched))}])"
    for m in metrics.values():
        if "MetricStat" in m:
            assert m["MetricStat"]["Metric"]["Namespace"] == "HandsOff/Gates"
            assert m["MetricStat"]["Metric"]["MetricName"] == "OverrideUsed"
            assert m["MetricStat"]["Stat"] == "Sum"
    gated = [s.name for s in pipeline.plan.stages if s.gate is not None]
    assert sorted(d["Stage"] for d in watched.values()) == sorted(gated)
    assert {d["Pipeline"] for d in watched.values()} == {f"{service}-application"}


def test_more_gated_stages_than_one_alarm_reads_get_a_second_alarm(fleet: Any) -> None:
    # A metric-math alarm reads at most 10 metrics: 15 gated stages need two alarms.
    plan = fleet.pipeline("orders").plan
    many = dataclasses.replace(plan, stages=plan.stages * 3)
    stack = Stack(App(), "Many", env=Environment(account="111111111111", region="us-east-1"))
    alarms = _override_used_alarms(stack, many, new_paging_topic(stack, name="many"))
    counts = [
        len([m for m in a["Properties"]["Metrics"] if "MetricStat" in m])
        for a in Template.from_stack(stack).find_resources("AWS::CloudWatch::Alarm").values()
    ]
    assert (len(alarms), sorted(counts)) == (2, [5, 10])


@pytest.mark.parametrize("service", SERVICES)
def test_writing_the_override_is_a_policy_of_its_own(fleet: Any, service: str) -> None:
    pipeline = fleet.pipeline(service)
    template = Template.from_stack(pipeline)
    parameter = f"arn:aws:ssm:us-east-1:111111111111:parameter/hands-off/{service}-application/override"
    [writer] = [
        p["Properties"]
        for p in template.find_resources("AWS::IAM::ManagedPolicy").values()
        if p["Properties"].get("ManagedPolicyName") == f"hands-off-{service}-override-writer"
    ]
    [statement] = writer["PolicyDocument"]["Statement"]
    # write it, or delete it (revoking an override; what the README's SCP example reserves for
    # the override writers too)
    assert (statement["Effect"], statement["Action"]) == (
        "Allow",
        ["ssm:DeleteParameter", "ssm:PutParameter"],
    )
    assert flat(statement["Resource"]) == parameter
    # ... and nothing else in the pipeline stack may write it
    for holder, other in identity_statements(template.to_json()):
        if holder.startswith("OverrideWriter"):
            continue
        actions = other["Action"] if isinstance(other["Action"], list) else [other["Action"]]
        assert not any(a in ("ssm:PutParameter", "ssm:DeleteParameter", "ssm:*") for a in actions)


# ------------------------------------------------------------- tampered gate inputs page (issue 8)


def _gates_rule(template: Template, construct_id: str) -> dict[str, Any]:
    """The properties of the pipeline's EventBridge rule ``Gates/<construct_id>``."""
    [rule] = [
        r["Properties"]
        for k, r in template.find_resources("AWS::Events::Rule").items()
        if re.fullmatch(f"Gates{construct_id}[0-9A-F]{{8}}", k)
    ]
    return rule


@pytest.mark.parametrize("service", SERVICES)
def test_a_tampered_or_unverified_gate_input_pages_the_tooling_topic(fleet: Any, service: str) -> None:
    """Before: a gate or bake failing with GateInputTampered failed its stage, and paged nobody."""
    pipeline = fleet.pipeline(service)
    template = Template.from_stack(pipeline)
    gates = pipeline.rendered.gates
    machines = sorted(
        json.dumps(pipeline.resolve(m.state_machine_arn)) for m in (gates.gate, gates.bake, gates.restore)
    )
    rule = _gates_rule(template, "PageFailures")
    pattern = rule["EventPattern"]
    assert pattern["source"] == ["aws.states"]
    assert pattern["detail-type"] == ["Step Functions Execution Status Change"]
    assert pattern["detail"]["status"] == ["FAILED"]
    # every error but those that page through the copies' alarms (F1: Step Functions' own too)
    assert pattern["detail"]["error"] == [{"anything-but": ["DeploymentBlocked", "BakeFailed"]}]
    assert sorted(json.dumps(a) for a in pattern["detail"]["stateMachineArn"]) == machines
    [target] = rule["Targets"]
    assert target["Arn"] == pipeline.resolve(pipeline.rendered.paging_topic.topic_arn)
    assert "$.detail.error" in json.dumps(target["InputTransformer"]["InputPathsMap"])
    assert rule["State"] == "ENABLED"


def test_eventbridge_may_publish_to_the_encrypted_tooling_topic(fleet: Any) -> None:
    # The tooling account's baseline (the pipelines' topic) lets EventBridge use its key and publish.
    [baseline] = [
        c
        for c in fleet.app.node.children
        if isinstance(c, AccountBaseline) and (c.account, c.region) == ("111111111111", "us-east-1")
    ]
    template = Template.from_stack(baseline).to_json()
    [key] = [r for r in template["Resources"].values() if r["Type"] == "AWS::KMS::Key"]
    [use] = [s for s in key["Properties"]["KeyPolicy"]["Statement"] if s.get("Sid") == "PagingPublishers"]
    assert "events.amazonaws.com" in use["Principal"]["Service"]
    assert use["Action"] == ["kms:Decrypt", "kms:GenerateDataKey*"]
    [policy] = [r for r in template["Resources"].values() if r["Type"] == "AWS::SNS::TopicPolicy"]
    publishers = [
        s
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if s.get("Principal") == {"Service": "events.amazonaws.com"}
    ]
    assert [(s["Effect"], s["Action"]) for s in publishers] == [("Allow", "sns:Publish")]


@pytest.mark.parametrize("service", SERVICES)
def test_a_gate_failure_reaches_the_pipelines_subscription(fleet: Any, service: str) -> None:
    pipeline = fleet.pipeline(service)
    template = Template.from_stack(pipeline).to_json()
    rules = [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Events::Rule"
        and r["Properties"].get("EventPattern", {}).get("source") == ["aws.states"]
    ]
    topic = pipeline.resolve(pipeline.rendered.paging_topic.topic_arn)
    paging = [r for r in rules if any(t["Arn"] == topic for t in r["Targets"])]
    # an execution that failed paging, and one that was stopped or timed out; the restore's
    # rule starts the Restore machine only
    assert len(rules) == 3
    assert len(paging) == 2
    [subscription] = subscriptions_of(pipeline, pipeline.rendered.paging_topic)
    for rule in paging:
        [transformer] = [t["InputTransformer"] for t in rule["Targets"] if t["Arn"] == topic]
        body = transformer["InputTemplate"]
        for name in transformer["InputPathsMap"]:
            body = body.replace(f"<{name}>", json.dumps('a "quoted" value'))
        message = json.loads(body)
        assert sns_body_filter_matches(subscription["FilterPolicy"], message)
        assert message["AlarmName"] == f"{service}-application-gate-failed"


@pytest.mark.parametrize("service", SERVICES)
def test_a_bake_stopped_or_timed_out_is_restored_and_pages_the_tooling_topic(
    fleet: Any, service: str
) -> None:
    """Before: a stopped or timed-out bake left a hotfix's alarm rollback off and paged nobody."""
    pipeline = fleet.pipeline(service)
    template = Template.from_stack(pipeline)
    gates = pipeline.rendered.gates
    restore = _gates_rule(template, "RestoreEnded")
    machines = [pipeline.resolve(m.state_machine_arn) for m in (gates.gate, gates.bake)]
    assert [a["stateMachineArn"] for a in restore["EventPattern"]["detail"]["$or"]] == [machines, machines]
    [target] = restore["Targets"]
    assert target["Arn"] == pipeline.resolve(gates.restore.state_machine_arn)
    page = _gates_rule(template, "PageEndedEarly")
    [target] = page["Targets"]
    assert target["Arn"] == pipeline.resolve(pipeline.rendered.paging_topic.topic_arn)
    assert {
        "status": ["ABORTED", "TIMED_OUT"],
        "stateMachineArn": [pipeline.resolve(m.state_machine_arn) for m in (gates.bake, gates.restore)],
    } in page["EventPattern"]["detail"]["$or"]
    assert restore["State"] == page["State"] == "ENABLED"


# ------------------------------------------------------------------------ hotfix IAM (issue 8)


@pytest.mark.parametrize("service", SERVICES)
def test_the_gate_reader_may_switch_only_this_services_deployment_groups(fleet: Any, service: str) -> None:
    pipeline = fleet.pipeline(service)
    for access in pipeline.access_stacks:
        template = Template.from_stack(access)
        statements = [s for _, s in identity_statements(template.to_json())]
        assert "cloudwatch:SetAlarmState" not in json.dumps(statements)
        [switch] = [s for s in statements if "codedeploy:UpdateDeploymentGroup" in json.dumps(s["Action"])]
        assert sorted(switch["Action"]) == [
            "codedeploy:GetDeploymentGroup",
            "codedeploy:UpdateDeploymentGroup",
        ]
        resources = switch["Resource"] if isinstance(switch["Resource"], list) else [switch["Resource"]]
        copies = [d for d in pipeline.deployments if d.target.account.account_id == access.account]
        # each copy's own group, in the account-region's shared application (issue 9): never the
        # application's other groups (other services')
        assert sorted(resources) == sorted(
            {
                f"arn:aws:codedeploy:{d.target.region}:{access.account}:deploymentgroup:"
                f"hands-off-lambda/{d.function_name}"
                for d in copies
            }
        )


@pytest.mark.parametrize("service", SERVICES)
def test_every_copy_deploys_watching_its_metric_alarms(fleet: Any, service: str) -> None:
    # A hotfix switches the group's alarm configuration off for one execution; the group itself
    # always lists the copy's metric alarms (never a composite: CodeDeploy documents metric alarms).
    pipeline = fleet.pipeline(service)
    for deployment in pipeline.deployments:
        [stage] = [s for s in pipeline.rendered.stages if s.stack.deployment == deployment]
        template = Template.from_stack(stage.stack)
        metric_alarms = set(template.find_resources("AWS::CloudWatch::Alarm"))
        [group] = template.find_resources("AWS::CodeDeploy::DeploymentGroup").values()
        configuration = group["Properties"]["AlarmConfiguration"]
        assert configuration["Enabled"] is True
        names = [alarm["Name"]["Ref"] for alarm in configuration["Alarms"]]
        assert len(names) >= 2, deployment.stack_name
        assert set(names) <= metric_alarms, deployment.stack_name

"""Amazon States Language states as plain Python values, for state machines whose definition
would otherwise cost a jsii round trip (Python → Node) per state, condition, retry and path.

The states connect as ``aws_stepfunctions`` states do (``next``, ``when``, ``otherwise``,
``add_catch``, ``branch``) and :func:`render` lays them out as CDK's ``StateGraph`` does: the
same traversal (each state's incoming, then outgoing transitions, in the order they were made),
the same keys in the same order. The definition of
:class:`~hands_off.constructs.deployment_gates.DeploymentGates` is thus byte for byte the one
``DefinitionBody.from_chainable`` rendered, built in Python and handed over once
(``Stack.to_json_string``). Values may hold CDK tokens (a function's ARN): they are copied as is.

Only what the gates use is here: JSONPath only, no Map, no ``InputPath``, no ``Comment``.

Example::

    task = Task("Check", resource=function_arn, parameters={"x.$": "$.x"}, timeout_seconds=90)
    done = Succeed("Done")
    task.next(done)
    definition = render(task, timeout_seconds=3600)
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "Choice",
    "Fail",
    "Parallel",
    "Pass",
    "State",
    "Succeed",
    "Task",
    "Wait",
    "and_",
    "array",
    "boolean_equals",
    "format_",
    "hash_",
    "is_present",
    "is_string",
    "not_",
    "number_greater_than_equals",
    "quote",
    "render",
    "string_equals",
    "string_equals_path",
    "string_to_json",
]

_ALL_ERRORS = "States.ALL"


class State:
    """One state: its id, its transitions and the plain values it renders.

    Args:
        state_id: the state's name in the definition (unique in the machine).
    """

    _type = ""

    def __init__(self, state_id: str) -> None:
        self.state_id = state_id
        self._next: State | None = None
        self._default: State | None = None
        self._choices: list[tuple[dict[str, Any], State]] = []
        self._catches: list[tuple[dict[str, Any], State]] = []
        self._retries: list[dict[str, Any]] = []
        self._incoming: list[State] = []

    def next(self, state: State) -> State:
        """Go on to ``state`` after this one; returns ``state`` (to chain ``a.next(b).next(c)``)."""
        if self._next is not None:
            raise ValueError(f"state {self.state_id!r} already has a next state")
        self._next = state
        state._incoming.append(self)
        return state

    def add_retry(
        self,
        *,
        errors: list[str],
        interval_seconds: int,
        max_attempts: int,
        backoff_rate: float,
        max_delay_seconds: int | None = None,
        jitter_strategy: str | None = None,
    ) -> None:
        """Retry ``errors`` (``ErrorEquals``) with backoff."""
        retry: dict[str, Any] = {
            "ErrorEquals": list(errors),
            "IntervalSeconds": interval_seconds,
            "MaxAttempts": max_attempts,
            "BackoffRate": backoff_rate,
        }
        if max_delay_seconds is not None:
            retry["MaxDelaySeconds"] = max_delay_seconds
        if jitter_strategy is not None:
            retry["JitterStrategy"] = jitter_strategy
        self._retries.append(retry)

    def add_catch(self, handler: State, *, errors: list[str], result_path: str) -> None:
        """On ``errors`` (after the retries), the error at ``result_path`` and on to ``handler``."""
        self._catches.append(({"ErrorEquals": list(errors), "ResultPath": result_path}, handler))
        handler._incoming.append(self)

    def _outgoing(self) -> list[State]:
        out = [s for s in (self._next, self._default) if s is not None]
        return out + [s for _, s in self._choices] + [s for _, s in self._catches]

    def _next_end(self) -> dict[str, Any]:
        return {"Next": self._next.state_id} if self._next is not None else {"End": True}

    def _retry_catch(self) -> dict[str, Any]:
        # CDK lists a States.ALL handler after the specific ones (a stable sort).
        out: dict[str, Any] = {}
        if self._retries:
            out["Retry"] = sorted(self._retries, key=lambda r: _ALL_ERRORS in r["ErrorEquals"])
        if self._catches:
            catches = sorted(self._catches, key=lambda c: _ALL_ERRORS in c[0]["ErrorEquals"])
            out["Catch"] = [{**c, "Next": s.state_id} for c, s in catches]
        return out

    def to_json(self) -> dict[str, Any]:
        """The state's ASL object."""
        raise NotImplementedError


class Task(State):
    """A ``Task`` state calling ``resource`` with ``parameters`` (already in ASL form: a key
    ending in ``.$`` holds a path)."""

    def __init__(
        self,
        state_id: str,
        *,
        resource: str,
        parameters: dict[str, Any],
        timeout_seconds: int | None = None,
        result_path: str | None = None,
        result_selector: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(state_id)
        self.resource = resource
        self.parameters = parameters
        self.timeout_seconds = timeout_seconds
        self.result_path = result_path
        self.result_selector = result_selector

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {**self._next_end(), **self._retry_catch(), "Type": "Task"}
        if self.timeout_seconds is not None:
            out["TimeoutSeconds"] = self.timeout_seconds
        if self.result_path is not None:
            out["ResultPath"] = self.result_path
        if self.result_selector is not None:
            out["ResultSelector"] = self.result_selector
        out["Resource"] = self.resource
        out["Parameters"] = self.parameters
        return out


class Pass(State):
    """A ``Pass`` state putting ``parameters`` (ASL form) at ``result_path``."""

    def __init__(self, state_id: str, *, parameters: dict[str, Any], result_path: str | None = None) -> None:
        super().__init__(state_id)
        self.parameters = parameters
        self.result_path = result_path

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"Type": "Pass"}
        if self.result_path is not None:
            out["ResultPath"] = self.result_path
        return {**out, "Parameters": self.parameters, **self._next_end()}


class Choice(State):
    """A ``Choice`` state: the first rule (a condition of this module) that holds, else the default."""

    def when(self, condition: dict[str, Any], state: State) -> Choice:
        """Go to ``state`` when ``condition`` holds (and no earlier rule did)."""
        self._choices.append((condition, state))
        state._incoming.append(self)
        return self

    def otherwise(self, state: State) -> Choice:
        """Go to ``state`` when no rule holds."""
        if self._default is not None:
            raise ValueError(f"choice {self.state_id!r} already has a default")
        self._default = state  # CDK counts no incoming transition for a default
        return self

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "Type": "Choice",
            "Choices": [{**c, "Next": s.state_id} for c, s in self._choices],
        }
        if self._default is not None:
            out["Default"] = self._default.state_id
        return out


class Fail(State):
    """A ``Fail`` state with ``error`` and the cause at ``cause_path`` (a path or an intrinsic)."""

    def __init__(self, state_id: str, *, error: str, cause_path: str) -> None:
        super().__init__(state_id)
        self.error = error
        self.cause_path = cause_path

    def to_json(self) -> dict[str, Any]:
        return {"Type": "Fail", "Error": self.error, "CausePath": self.cause_path}


class Succeed(State):
    """A ``Succeed`` state whose output is what is at ``output_path``."""

    def __init__(self, state_id: str, *, output_path: str) -> None:
        super().__init__(state_id)
        self.output_path = output_path

    def to_json(self) -> dict[str, Any]:
        return {"Type": "Succeed", "OutputPath": self.output_path}


class Wait(State):
    """A ``Wait`` state for the seconds at ``seconds_path``."""

    def __init__(self, state_id: str, *, seconds_path: str) -> None:
        super().__init__(state_id)
        self.seconds_path = seconds_path

    def to_json(self) -> dict[str, Any]:
        return {"Type": "Wait", "SecondsPath": self.seconds_path, **self._next_end()}


class Parallel(State):
    """A ``Parallel`` state running its branches (each from its start state) with their results,
    in order, at ``result_path``."""

    def __init__(self, state_id: str, *, result_path: str) -> None:
        super().__init__(state_id)
        self.result_path = result_path
        self._starts: list[State] = []

    def branch(self, start: State) -> Parallel:
        """Add a branch starting at ``start``."""
        self._starts.append(start)
        return self

    def to_json(self) -> dict[str, Any]:
        return {
            "Type": "Parallel",
            "ResultPath": self.result_path,
            **self._next_end(),
            "Branches": [_graph(start, set()) for start in self._starts],
        }


def _graph(start: State, names: set[str]) -> dict[str, Any]:
    """The states reachable from ``start`` (and those leading into them), in CDK's order: a
    state, then the states with a transition into it, then those it goes on to."""
    order: list[State] = []
    bound: set[int] = set()

    def bind(state: State) -> None:
        if id(state) in bound:
            return
        if state.state_id in names:
            raise ValueError(f"two states are named {state.state_id!r}")
        bound.add(id(state))
        names.add(state.state_id)
        order.append(state)
        for incoming in state._incoming:
            bind(incoming)
        for outgoing in state._outgoing():
            bind(outgoing)

    bind(start)
    return {"StartAt": start.state_id, "States": {s.state_id: s.to_json() for s in order}}


def render(start: State, *, timeout_seconds: int | None = None) -> dict[str, Any]:
    """The machine's definition (``StartAt``, ``States``, ``TimeoutSeconds``) from ``start``.

    Raises:
        ValueError: two states (branches included) have the same id.
    """
    names: set[str] = set()
    definition = _graph(start, names)
    _check_branch_names(definition, names)
    if timeout_seconds is not None:
        definition["TimeoutSeconds"] = timeout_seconds
    return definition


def _check_branch_names(definition: dict[str, Any], names: set[str]) -> None:
    """Branch states share the machine's namespace (as in CDK): ids must be unique across them."""
    for state in definition["States"].values():
        for branch in state.get("Branches", []):
            for name in branch["States"]:
                if name in names:
                    raise ValueError(f"two states are named {name!r}")
                names.add(name)
            _check_branch_names(branch, names)


# Conditions (the ``Choices`` rules, without ``Next``).


def boolean_equals(variable: str, value: bool) -> dict[str, Any]:
    """``variable`` is the boolean ``value``."""
    return {"Variable": variable, "BooleanEquals": value}


def string_equals(variable: str, value: str) -> dict[str, Any]:
    """``variable`` is the string ``value``."""
    return {"Variable": variable, "StringEquals": value}


def string_equals_path(variable: str, path: str) -> dict[str, Any]:
    """``variable`` is the string at ``path``."""
    return {"Variable": variable, "StringEqualsPath": path}


def number_greater_than_equals(variable: str, value: float) -> dict[str, Any]:
    """``variable`` is a number at least ``value``."""
    return {"Variable": variable, "NumericGreaterThanEquals": value}


def is_present(variable: str) -> dict[str, Any]:
    """``variable`` is in the input."""
    return {"Variable": variable, "IsPresent": True}


def is_string(variable: str) -> dict[str, Any]:
    """``variable`` is a string."""
    return {"Variable": variable, "IsString": True}


def not_(condition: dict[str, Any]) -> dict[str, Any]:
    """``condition`` does not hold."""
    return {"Not": condition}


def and_(*conditions: dict[str, Any]) -> dict[str, Any]:
    """All ``conditions`` hold."""
    return {"And": list(conditions)}


def or_(*conditions: dict[str, Any]) -> dict[str, Any]:
    """Any of ``conditions`` holds."""
    return {"Or": list(conditions)}


# Intrinsic functions (values of keys ending in ``.$``). Arguments are paths or intrinsics.


def quote(text: str) -> str:
    """``text`` as an intrinsic's string literal, quoted as CDK's ``JsonPath`` quotes it: ``'``
    and ``\\`` escaped, except a backslash escaping a brace (``\\{`` is a literal ``{`` in
    ``States.Format``)."""
    out = ["'"]
    for i, c in enumerate(text):
        if c == "'":
            out.append("\\'")
        elif c == "\\" and (i == len(text) - 1 or text[i + 1] not in "{}"):
            out.append("\\\\")
        else:
            out.append(c)
    out.append("'")
    return "".join(out)


def format_(template: str, *args: str) -> str:
    """``States.Format``: ``template`` with each ``{}`` replaced by the next of ``args``."""
    return f"States.Format({', '.join([quote(template), *args])})"


def array(*args: str) -> str:
    """``States.Array`` of ``args``."""
    return f"States.Array({', '.join(args)})"


def hash_(arg: str, algorithm: str) -> str:
    """``States.Hash`` of ``arg`` with ``algorithm`` (e.g. ``"SHA-256"``)."""
    return f"States.Hash({arg}, {quote(algorithm)})"


def string_to_json(arg: str) -> str:
    """``States.StringToJson`` of ``arg``."""
    return f"States.StringToJson({arg})"

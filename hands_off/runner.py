"""The entry point of a user's ``app.py``: build the app, check it with cdk-nag, synthesize, and turn
a configuration mistake into one line on stderr instead of a traceback.

Example (``app.py``, run by ``cdk synth``)::

    from hands_off import run

    from my_org.pipelines import CatalogPipeline, OrdersPipeline


    def build(app):
        OrdersPipeline(app)
        CatalogPipeline(app)


    run(build)

A ``ConfigError``, wherever it is raised (in ``build``, in the model, in a hook, in a fleet file,
or in a Python callback jsii runs during synth), prints one line and exits with status 2::

    hands-off: app.py:12: GatePolicy.org_alarm_prefixes: must be a tuple of str, got the string ...

Any other exception is a bug, not a configuration mistake, and keeps its traceback.
"""

from __future__ import annotations

import json
import os
import sys
import sysconfig
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from hands_off.model.errors import ConfigError, FleetFileError

if TYPE_CHECKING:
    from aws_cdk import App

__all__ = ["error_line", "run", "validation_failures"]

_PROG = "hands-off"
_USAGE_ERROR = 2
_VALIDATION_FAILED = 1
_VALIDATION_REPORT = "validation-report.json"  # CDK's cxapi.VALIDATION_REPORT_FILE
_PACKAGE_DIR = Path(__file__).resolve().parent
# jsii re-raises a Python callback's exception as a RuntimeError caused by a JavaScriptError; the
# original is its __context__, possibly a few callbacks deep.
_MAX_JSII_DEPTH = 8


def run(build: Callable[[App], object], *, nag: bool = True, argv0: str | None = None) -> None:
    """Create an ``App``, call ``build(app)``, add the account-region baselines, apply cdk-nag and
    synthesize.

    The baselines (``hands_off.stacks.AccountBaseline``: the paging topic every service of an
    account and region shares) are one stack per account and region the app's stacks page in,
    added after ``build`` (``add_account_baselines``). The pipelines never deploy them: deploy them
    once per account and region before the pipelines (``hands-off bootstrap`` prints the commands).

    Args:
        build: adds the user's pipelines (or any stacks) to the app; its result is ignored.
        nag: run the AwsSolutions checks with the hands-off acknowledgements
            (``hands_off.nag.apply_nag``). Default: ``True``.
        argv0: the program name the error line starts with. Default: ``None`` (``"hands-off"``).

    Raises:
        SystemExit: with status 2 after printing one line (see :func:`error_line`) when a
            ``ConfigError`` is raised; with status 1 after one line naming the failed plugins and
            rules when CDK's validation report says a plugin (cdk-nag, the deployment-safety pack)
            failed, even where context (``@aws-cdk/core:failSynthOnValidationErrors``,
            ``@aws-cdk/core:appMode``) made CDK return normally; other exceptions propagate
            unchanged.
    """
    # Imported here so importing hands_off (and `hands-off plan`) never starts jsii.
    from aws_cdk import App

    try:
        app = App()
        build(app)
        from hands_off.stacks.account_baseline import add_account_baselines

        add_account_baselines(app)
        if nag:
            from hands_off.nag import apply_nag

            apply_nag(app)
        # An output folder keeps the files of earlier synths; CDK writes no report when no plugin
        # runs: remove the old one so the report read below is this synth's.
        (Path(app.outdir) / _VALIDATION_REPORT).unlink(missing_ok=True)
        app.synth()
    except Exception as err:
        config = _config_error(err)
        if config is None:
            raise
        print(error_line(config, argv0=argv0), file=sys.stderr)
        raise SystemExit(_USAGE_ERROR) from None
    failed = validation_failures(Path(app.outdir))
    if failed:
        # CDK fails the synth on a failed validation only as its context says
        # (@aws-cdk/core:failSynthOnValidationErrors, @aws-cdk/core:appMode): not a developer's choice.
        report = Path(app.outdir) / _VALIDATION_REPORT
        print(f"{argv0 or _PROG}: synth failed validation: {failed} (report: {report})", file=sys.stderr)
        raise SystemExit(_VALIDATION_FAILED)


def validation_failures(outdir: Path) -> str:
    """The failed plugins of the validation report CDK wrote into ``outdir`` and their rules, e.g.
    ``"HandsOff (HO-W1, HO-W8)"``; empty when there is no report or every plugin passed.

    Example::

        >>> validation_failures(Path("/nonexistent"))
        ''
    """
    path = outdir / _VALIDATION_REPORT
    if not path.is_file():
        return ""
    report = json.loads(path.read_text(encoding="utf-8"))
    failed = []
    for plugin in report.get("pluginReports", []):
        if plugin.get("conclusion") == "failure":
            rules = sorted({str(v.get("ruleName")) for v in plugin.get("violations", [])})
            failed.append(f"{plugin.get('pluginName')} ({', '.join(rules)})")
    return "; ".join(failed)


def error_line(error: ConfigError, *, argv0: str | None = None) -> str:
    """The one line ``run`` prints for ``error``: ``<argv0>: <where>: <field>: <message>``.

    ``where`` is the fleet file of a ``FleetFileError``; otherwise the ``file:line`` of the
    innermost frame of the traceback in the user's code (outside this package, the standard
    library and site-packages), or nothing when there is none (the field names the class then).

    Example::

        >>> error_line(ConfigError("GatePolicy.windows", "bad; fix"))
        'hands-off: GatePolicy.windows: bad; fix'
    """
    prog = argv0 or _PROG
    text = " ".join(part.strip() for part in str(error).splitlines())
    where = None if isinstance(error, FleetFileError) else _user_frame(error)
    return f"{prog}: {where}: {text}" if where else f"{prog}: {text}"


def _config_error(error: BaseException) -> ConfigError | None:
    """``error`` if it is a ``ConfigError``, or the one a jsii error wraps; else ``None``."""
    current: BaseException | None = error
    for _ in range(_MAX_JSII_DEPTH):
        if isinstance(current, ConfigError):
            return current
        if current is None or not type(current.__cause__).__module__.startswith("jsii"):
            return None
        current = current.__context__
    return None


def _not_user_roots() -> tuple[Path, ...]:
    paths = sysconfig.get_paths()
    roots = {_PACKAGE_DIR, *(Path(paths[key]).resolve() for key in ("stdlib", "platstdlib"))}
    return tuple(roots)


def _is_user_file(filename: str, roots: tuple[Path, ...]) -> bool:
    if filename.startswith("<"):  # generated code (dataclass __init__), frozen modules
        return False
    path = Path(filename).resolve()
    if {"site-packages", "dist-packages"} & set(path.parts):
        return False
    return not any(path.is_relative_to(root) for root in roots)


def _user_frame(error: BaseException) -> str | None:
    """``file:line`` of the innermost traceback frame in the user's code, if any."""
    roots = _not_user_roots()
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        if _is_user_file(frame.filename, roots):
            return f"{_display(frame.filename)}:{frame.lineno}"
    return None


def _display(filename: str) -> str:
    """``filename`` relative to the current directory when it is inside it."""
    path = Path(filename).resolve()
    try:
        return str(path.relative_to(Path.cwd().resolve()))
    except ValueError:
        return os.fspath(filename)

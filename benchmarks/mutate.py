"""`make mutate`: mutation testing of the gate runtime and the wave planner with mutmut 3.

Each module is mutated on its own, against its own tests only:

1. A snapshot of the working tree (``hands_off``, ``hands_off_gates``, ``pyproject.toml`` and the
   test folders the module needs) is copied to ``build/mutate/<module>/``; the working tree itself
   is never mutated, and files edited while the run goes on do not change it.
2. The copy's ``pyproject.toml`` gets a ``[tool.mutmut]`` section that mutates that one file and
   selects that module's tests; ``mutmut run`` runs there. mutmut first runs the selected tests
   once to record which test calls which function, then runs, for each mutant, only the selected
   tests that call the mutated function, each mutant in a forked process (the imports are paid
   once), two at a time on two cores.
3. Hypothesis runs with the ``mutation`` profile of ``tests/conftest.py``: the examples of the
   derandomized ``ci`` profile, without shrinking.

A survivor is either a gap in the tests or an equivalent/harmless mutant. The second kind is
listed in ``EXPLAINED`` below with the line the mutant writes and the reason; a survivor whose
line no longer matches (the code changed) counts as unexplained again.

Writes ``benchmarks/mutation.json`` (per module: mutants, killed, survived, timeout, no tests,
equivalent, score; the modules not run this time keep their last result),
``benchmarks/mutation.md`` (the table) and ``benchmarks/mutation-survivors.md`` (every survivor
with its diff and its reason).

Usage: ``python benchmarks/mutate.py [MODULE ...] [--max-children N]`` (default: every module,
``nproc`` children); ``MUTATE_MODULES=planner,decide`` does the same as naming them.

mutmut 3 does not mutate module-level code (constants), decorated functions other than
``staticmethod``/``classmethod`` (so neither the ``@gate_handler`` entry points nor
``@property`` methods) nor docstrings; those lines are outside every count below.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
WORK = ROOT / "build" / "mutate"
MUTMUT = Path(sys.executable).parent / "mutmut"

# Tests every gate module shares: the handler wrapper and the real gates' entry points.
GATE_SHARED = ("tests/gates/test_handler.py",)


@dataclass(frozen=True)
class Module:
    """One mutated file and the tests that guard it."""

    name: str
    path: str
    tests: tuple[str, ...]
    # "fork": every run forks from mutmut's process, which ran the tests twice (stats, clean) and
    # keeps what they left; "forkserver": every run forks from a process that only collected them
    # (slower; for test modules whose state carries over from one run to the next).
    isolation: str = "fork"


MODULES = (
    Module(
        "planner",
        "hands_off/model/planner.py",
        ("tests/model/test_planner.py", "tests/model/test_planner_properties.py"),
    ),
    Module("decide", "hands_off_gates/decide.py", ("tests/gates/test_decide.py", *GATE_SHARED)),
    # test_override.py's test_history_without_the_writer_lifts_nothing parametrizes FakeSsm
    # objects built at import and counts their calls: a second run in one process sees both.
    Module(
        "override",
        "hands_off_gates/override.py",
        ("tests/gates/test_override.py", *GATE_SHARED),
        isolation="forkserver",
    ),
    Module(
        "time_window",
        "hands_off_gates/time_window.py",
        ("tests/gates/test_time_window.py", "tests/gates/test_time_window_properties.py", *GATE_SHARED),
    ),
    Module("alarms", "hands_off_gates/alarms.py", ("tests/gates/test_alarms.py", *GATE_SHARED)),
    Module("bake", "hands_off_gates/bake.py", ("tests/gates/test_bake.py", *GATE_SHARED)),
    Module(
        "gate_common", "hands_off_gates/gate_common.py", ("tests/gates/test_gate_common.py", *GATE_SHARED)
    ),
    Module("handler", "hands_off_gates/handler.py", GATE_SHARED),
    Module("hotfix", "hands_off_gates/hotfix.py", ("tests/gates/test_hotfix.py", *GATE_SHARED)),
)
BY_NAME = {module.name: module for module in MODULES}

# Survivors that are equivalent to the original (no input tells them apart) or harmless, keyed
# by mutmut's mutant name: (text the mutant's changed line contains, reason).
_P = "hands_off.model.planner."
_RADIUS_AT_MOST_ONE = (
    "a wave's share sum over the inventory's total is at most 1 in floats too: fsum is correctly "
    "rounded, so the fsum of a subset of positive shares is <= the fsum of all of them, and a "
    "correctly rounded a / b with a <= b is <= 1; min(1.0, x) and min(2.0, x) are both x"
)
_FALSY = "check_float only tests low_inclusive for truth; None and False are both false"
_STRICT = (
    "_planned is private and both callers build exactly one radius per wave (plan_waves in the "
    "same loop, plan_from_environments by a comprehension over the waves): the lengths never differ"
)
_SIZE_FLOOR = (
    "the floor at the previous group's size never binds: the target starts at 2 and only grows "
    "(factor >= 1 is validated; the cap, count, is >= every target reached), so "
    "floor(target + 0.5) is already >= the previous size, and >= 2 >= 1 for the first group"
)
EXPLAINED: dict[str, tuple[str, str]] = {
    f"{_P}x__check_inventory__mutmut_42": (
        "abs(total - 1.0) >= _SHARE_TOLERANCE",
        "no float total is exactly 0.01 away from 1: for a total in [0.5, 2] the difference is "
        "exact and a multiple of 2**-53, and 0.01 as a float is an odd multiple of 2**-59 (any "
        "other total is at least 0.5 away); > and >= never disagree",
    ),
    f"{_P}x__group_sizes__mutmut_11": ("and False else 1", _SIZE_FLOOR),
    f"{_P}x__group_sizes__mutmut_15": ("if sizes else 2", _SIZE_FLOOR),
    f"{_P}x__group_sizes__mutmut_19": (
        "if left <= size:",
        "when exactly `size` regions are left, both versions end with a last group of `size`: the "
        "original appends it and the loop ends; the mutant enters the branch, where "
        "left == size >= sizes[-1] is not smaller than the group before, so it appends `left`",
    ),
    f"{_P}x__planned__mutmut_8": ("strict=None", _STRICT),
    f"{_P}x__planned__mutmut_11": ("zip(waves, radii, )", _STRICT),
    f"{_P}x__planned__mutmut_12": ("strict=False", _STRICT),
    f"{_P}x_plan_from_environments__mutmut_13": ("low_inclusive=None", _FALSY),
    f"{_P}xǁRegionTrafficǁ__post_init____mutmut_12": ("low_inclusive=None", _FALSY),
    f"{_P}x_plan_from_environments__mutmut_40": ("radii = [min(2.0,", _RADIUS_AT_MOST_ONE),
    f"{_P}x_plan_waves__mutmut_72": ("radius = min(2.0,", _RADIUS_AT_MOST_ONE),
    f"{_P}xǁWavePlanǁtable__mutmut_36": (
        ".lstrip()",
        "no table line has a space at either end: the first cell is a wave name (a stage name: "
        "no spaces) or 'wave', left-justified; the last is the lead time or its header, "
        "right-justified; rstrip and lstrip are both no-ops",
    ),
}

# Gate runtime survivors reviewed as equivalent or harmless (issue 13).
_D, _G, _B, _A = (
    "hands_off_gates.decide.",
    "hands_off_gates.gate_common.",
    "hands_off_gates.bake.",
    "hands_off_gates.alarms.",
)
_NAIVE_NOW = (
    "datetime.now(None) is the same instant: .timestamp() and .astimezone() read a naive time as local"
)
_FLUSHED_NEXT = "the handler's result log line follows with flush=True and flushes stdout, this line included"
_ALL_JSON = "every value in the record is str, int, a list of str or None: default= is never called"
_SCOPE_TEXT = (
    "the text is read only when the scope is non-empty (bypassing needs a non-empty scope, and the "
    "'does not cover' note sits under `if scope`)"
)
_ONE_PER_READ = "read_each returns exactly one outcome per read, in order: the lengths never differ"
_SUFFIX = (
    "redundant set entry: the name already ends in 'ConnectionError' or 'TimeoutError', which the "
    "endswith test accepts"
)
_FALSY_ARG = "falsy, the same as the default"
_CANCELLED = "every future not done was cancel()ed just before: nothing pending is left to cancel"
EXPLAINED.update(
    {
        f"{_D}x__audit__mutmut_50": ("datetime.now(None)", _NAIVE_NOW),
        f"{_D}x__audit__mutmut_52": ("flush=None", _FLUSHED_NEXT),
        f"{_D}x__audit__mutmut_54": ("default=str), )", _FLUSHED_NEXT),
        f"{_D}x__audit__mutmut_59": ("flush=False", _FLUSHED_NEXT),
        f"{_D}x__audit__mutmut_56": ("default=None", _ALL_JSON),
        f"{_D}x__audit__mutmut_58": ("json.dumps(emf, )", _ALL_JSON),
        **{f"{_D}x__override__mutmut_{n}": ('frozenset(), "XXXX"', _SCOPE_TEXT) for n in (7, 23, 27, 29, 53)},
        f"{_G}x_describe_error__mutmut_11": ("message = None", "None and '' both fail `if not message`"),
        f"{_G}x_emit_health__mutmut_17": ("datetime.now(None)", _NAIVE_NOW),
        f"{_G}x_log__mutmut_9": ("datetime.now(None)", _NAIVE_NOW),
        **{
            f"{_G}x_is_transient__mutmut_{n}": (text, _SUFFIX)
            for n, text in zip(
                range(16, 25),
                [
                    f(name)
                    for name in ("EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError")
                    for f in (lambda t: f"XX{t}XX", str.lower, str.upper)
                ],
                strict=True,
            )
        },
        f"{_G}x_log__mutmut_19": ("sort_keys=None", "None is falsy: keys stay in insertion order"),
        f"{_G}x_log__mutmut_22": ("default=str, )", "sort_keys=False is the default"),
        f"{_G}x_parse_instant__mutmut_15": (
            "and parsed.utcoffset()",
            "fromisoformat gives either no tzinfo or a fixed offset (never a None offset): or/and agree",
        ),
        f"{_G}x_read_each__mutmut_24": ("wait=None", _FALSY_ARG),
        **{f"{_G}x_read_each__mutmut_{n}": ("pool.shutdown(wait=False", _CANCELLED) for n in (25, 27, 29)},
        f"{_B}x_evaluate_bake__mutmut_159": (
            "or True else []",
            "checks that are not a list never get here: check_alarms reports them as lasting and the bake "
            "has already FAILED",
        ),
        f"{_B}x_evaluate_bake__mutmut_185": (
            "minimum >= 0",
            "with minimum 0 there are no targets (nothing to read, nothing added to requests)",
        ),
        **{
            f"{_B}x_evaluate_bake__mutmut_{n}": ("zip(targets, outcomes", _ONE_PER_READ)
            for n in (205, 208, 209)
        },
        **{f"{_A}x_check_alarms__mutmut_{n}": ("zip(parsed, outcomes", _ONE_PER_READ) for n in (42, 45, 46)},
        **{
            f"{_B}x__hotfix_lifts__mutmut_{n}": ("zip(hotfixes, outcomes", _ONE_PER_READ)
            for n in (16, 19, 20)
        },
        **{
            f"{_B}x_evaluate_bake__mutmut_{n}": (
                text,
                "the lifted key is there whenever lifted alarms "
                "were asked for (the only case its value is used), and `if ignored` reads None as []",
            )
            for n, text in ((281, 'alarms.get("lifted", None)'), (283, 'alarms.get("lifted", )'))
        },
        **{
            f"hands_off_gates.hotfix.x_set_hotfix__mutmut_{n}": ("zip(targets, outcomes", _ONE_PER_READ)
            for n in (56, 59, 60)
        },
        **{
            f"hands_off_gates.hotfix.x__undo_arm__mutmut_{n}": ("zip(turned_off, outcomes", _ONE_PER_READ)
            for n in (20, 23, 24)
        },
        **{
            f"hands_off_gates.hotfix.x__set__mutmut_{n}": (
                text,
                "bool(None) and bool(False) are both False: a missing ignorePollAlarmFailure is sent as "
                "False either way",
            )
            for n, text in (
                (57, 'config.get("ignorePollAlarmFailure", None)'),
                (59, 'config.get("ignorePollAlarmFailure", )'),
            )
        },
        f"{_A}x__describe__mutmut_2": (
            'token: str | None = ""',
            "tested only with `if token:`: '' and None agree",
        ),
    }
)

EXPLAINED.update(  # time_window, reviewed: equivalent or harmless
    {
        "hands_off_gates.time_window.x__intervals__mutmut_13": (
            "timedelta(days=2)",
            (
                "one more day of occurrences after until: they start after until, so they only "
                "add candidates past the horizon (filtered out) or intervals that cannot contain "
                "the instant"
            ),
        ),
        "hands_off_gates.time_window.x__intervals__mutmut_5": (
            "since.astimezone(zone).date() + timedelta(days=1)",
            (
                "since is now-2d, so first is still the local date before now's; an occurrence "
                "starting earlier ends (wall clock) by that date, before now; the look-back is 2 "
                "days wider than needed"
            ),
        ),
        "hands_off_gates.time_window.x__intervals__mutmut_6": (
            "first = since.astimezone(None).date()",
            (
                "host zone instead of the window's: host and window zone differ by at most 2 "
                "local dates and first has 2 spare days of look-back (since is now-2d, minus 1), "
                "so no occurrence that can contain now is lost"
            ),
        ),
        "hands_off_gates.time_window.x__intervals__mutmut_8": (
            "since.astimezone(zone).date() - timedelta(days=2)",
            "a wider look-back only adds occurrences that ended before now",
        ),
        "hands_off_gates.time_window.x__parse_timezone__mutmut_15": (
            "sorted(available_timezones()), )",
            ("get_close_matches lists best first; only close[0] is used, so n=3 gives the same hint"),
        ),
        "hands_off_gates.time_window.x__parse_timezone__mutmut_17": (
            "n=2)",
            ("get_close_matches lists best first; only close[0] is used, so n=2 gives the same hint"),
        ),
        "hands_off_gates.time_window.x__wall_clock_instant__mutmut_11": (
            "astimezone(None) for fold",
            (
                "the same instant with the host's fixed offset; later code only compares instants"
                " or converts (astimezone(zone), iso_utc to UTC), so the tzinfo is never seen"
            ),
        ),
        "hands_off_gates.time_window.x__wall_clock_instant__mutmut_19": (
            "hi - lo >= _ONE_SECOND",
            (
                "lo and hi are whole seconds; at exactly 1 s the extra pass makes mid == lo and "
                "breaks, returning the same hi"
            ),
        ),
        "hands_off_gates.time_window.x__wall_clock_instant__mutmut_22": (
            "(hi - lo) / 2",
            (
                "hi - lo is whole seconds, so /2 and //2 are the same to the microsecond (n or "
                "n.5 s), and microseconds are then dropped"
            ),
        ),
        "hands_off_gates.time_window.x__wall_clock_instant__mutmut_28": (
            "if mid < lo:",
            (
                "dead guard: in the loop hi - lo is >= 2 whole seconds, so mid >= lo + 1 s; "
                "neither mid < lo nor mid <= lo is ever true"
            ),
        ),
        "hands_off_gates.time_window.x__wall_clock_instant__mutmut_29": (
            "return",
            "dead guard: mid <= lo is never true in the loop (hi - lo >= 2 whole seconds)",
        ),
        "hands_off_gates.time_window.x__wall_clock_instant__mutmut_31": (
            ") > naive:",
            (
                "this branch runs only for a time in a spring-forward gap, which no instant shows"
                " on the wall clock, so == naive never happens"
            ),
        ),
        "hands_off_gates.time_window.x_evaluate_window__mutmut_24": (
            "now - timedelta(days=3), horizon",
            "a wider look-back only adds occurrences that ended before now",
        ),
        "hands_off_gates.time_window.x_evaluate_window__mutmut_28": (
            "now <= start <= horizon",
            (
                "a window starting exactly at now adds now, already the first candidate; the "
                "duplicate changes nothing"
            ),
        ),
        "hands_off_gates.time_window.x_evaluate_window__mutmut_32": (
            "now <= b.end <= horizon",
            (
                "a blackout ending exactly at now adds now, already the first candidate; the "
                "duplicate changes nothing"
            ),
        ),
        "hands_off_gates.time_window.x_is_open_at__mutmut_10": (
            "instant - timedelta(days=3), instant",
            "a wider look-back only adds occurrences that ended before the instant",
        ),
        "hands_off_gates.time_window.xǁWindowǁoccurrences__mutmut_26": (
            "if closes >= opens:",
            (
                "also yields the empty [t, t) of a window a DST gap collapses; it contains no "
                "instant and its start only adds a candidate that _open rejects"
            ),
        ),
        "hands_off_gates.time_window.xǁWindowǁoccurrences__mutmut_4": (
            "while day < last:",
            (
                "last is until's local date + 1; occurrences starting that day start after until "
                "(and the horizon), so leaving them out changes nothing"
            ),
        ),
    }
)

_WRITER_FIELD = (
    "the field is unobservable: _writer's only caller, read_override, catches the "
    "GateConfigError and keeps exc.message alone (the field is never in a reason, log"
    " line or result); the override still lifts nothing with the same reason"
)
EXPLAINED.update(  # override, reviewed: equivalent or harmless
    {
        "hands_off_gates.override.x__writer__mutmut_3": (
            'GateConfigError(None, f"GetParameter returned no version',
            _WRITER_FIELD,
        ),
        "hands_off_gates.override.x__writer__mutmut_7": (
            '"XXVersionXX", f"GetParameter returned no version',
            _WRITER_FIELD,
        ),
        "hands_off_gates.override.x__writer__mutmut_8": (
            '"version", f"GetParameter returned no version',
            _WRITER_FIELD,
        ),
        "hands_off_gates.override.x__writer__mutmut_9": (
            '"VERSION", f"GetParameter returned no version',
            _WRITER_FIELD,
        ),
        "hands_off_gates.override.x__writer__mutmut_44": (
            "None,",
            _WRITER_FIELD,
        ),
        "hands_off_gates.override.x__writer__mutmut_48": (
            '"XXValueXX",',
            _WRITER_FIELD,
        ),
        "hands_off_gates.override.x__writer__mutmut_49": (
            '"value",',
            _WRITER_FIELD,
        ),
        "hands_off_gates.override.x__writer__mutmut_50": (
            '"VALUE",',
            _WRITER_FIELD,
        ),
        "hands_off_gates.override.x__writer__mutmut_59": (
            'None, f"version {version} of {parameter_name} has no LastModifiedUser"',
            _WRITER_FIELD,
        ),
        "hands_off_gates.override.x__writer__mutmut_63": (
            '"XXLastModifiedUserXX", f"version',
            _WRITER_FIELD,
        ),
        "hands_off_gates.override.x__writer__mutmut_64": (
            '"lastmodifieduser", f"version',
            _WRITER_FIELD,
        ),
        "hands_off_gates.override.x__writer__mutmut_65": (
            '"LASTMODIFIEDUSER", f"version',
            _WRITER_FIELD,
        ),
        "hands_off_gates.override.x__writer__mutmut_77": (
            'GateConfigError(None, f"version {version} of {parameter_name} is not in its history")',
            _WRITER_FIELD,
        ),
        "hands_off_gates.override.x__writer__mutmut_81": (
            'GateConfigError("XXVersionXX", f"version {version} of {parameter_name} is not in its history")',
            _WRITER_FIELD,
        ),
        "hands_off_gates.override.x__writer__mutmut_82": (
            'GateConfigError("version", f"version {version} of {parameter_name} is not in its history")',
            _WRITER_FIELD,
        ),
        "hands_off_gates.override.x__writer__mutmut_83": (
            'GateConfigError("VERSION", f"version {version} of {parameter_name} is not in its history")',
            _WRITER_FIELD,
        ),
        "hands_off_gates.override.x_evaluate_override__mutmut_94": (
            '"reason": "XXXX",',
            (
                "a placeholder: result['reason'] is overwritten with describe_override(...) "
                "before the result is returned, on the only path that builds it"
            ),
        ),
        "hands_off_gates.override.x_read_override__mutmut_44": (
            "problem = None",
            (
                "author_problem is read only when author is None, which happens only when _writer"
                " raised, and then the except clause has set problem; _writer otherwise returns a"
                " str (user.strip()), so the initial value is never read"
            ),
        ),
        "hands_off_gates.override.x_read_override__mutmut_45": (
            'problem = "XXXX"',
            (
                "author_problem is read only when author is None, which happens only when _writer"
                " raised, and then the except clause has set problem; _writer otherwise returns a"
                " str (user.strip()), so the initial value is never read"
            ),
        ),
    }
)

DETECTED = ("killed", "timeout", "segfault")  # segfault: killed by the CPU-time limit (SIGKILL)
UNDETECTED = ("survived", "no tests", "suspicious")


def snapshot(module: Module, workdir: Path) -> None:
    """Copy what ``module``'s tests need into ``workdir`` and configure mutmut there."""
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis", "__snapshots__")
    for package in ("hands_off", "hands_off_gates"):
        shutil.copytree(ROOT / package, workdir / package, ignore=ignore)
    (workdir / "tests").mkdir()
    shutil.copy2(ROOT / "tests" / "conftest.py", workdir / "tests" / "conftest.py")
    for folder in sorted({str(Path(test).parent) for test in module.tests}):
        shutil.copytree(ROOT / folder, workdir / folder, ignore=ignore, dirs_exist_ok=True)
    shutil.copy2(ROOT / "cdk.json", workdir / "cdk.json")
    config = {
        "source_paths": ["hands_off", "hands_off_gates"],
        "only_mutate": [module.path],
        "pytest_add_cli_args_test_selection": list(module.tests),
        "use_git_change_detection": False,
        "process_isolation": module.isolation,
        # An endless loop is given 5x (not 15x) its tests' time before it counts as a timeout.
        "timeout_multiplier": 5.0,
    }
    lines = [f"{key} = {json.dumps(value)}" for key, value in config.items()]
    pyproject = (ROOT / "pyproject.toml").read_text()
    (workdir / "pyproject.toml").write_text(pyproject + "\n[tool.mutmut]\n" + "\n".join(lines) + "\n")


def mutmut(workdir: Path, *args: str, log: Path | None = None) -> str:
    env = {
        **os.environ,
        "HYPOTHESIS_PROFILE": "mutation",
        "PATH": f"{MUTMUT.parent}:{os.environ.get('PATH', '')}",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    if log is None:
        return subprocess.run(
            [str(MUTMUT), *args], cwd=workdir, env=env, capture_output=True, text=True, check=True
        ).stdout
    with log.open("w") as out:
        subprocess.run(
            [str(MUTMUT), *args], cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT, check=True
        )
    return ""


# What `mutmut show NAME` prints, for many mutants in one process (mutmut 3.8's own functions).
_DIFFS = """
import json, sys
from mutmut.mutation.diff_apply import find_mutant, get_diff_for_mutant
names = json.load(sys.stdin)
print(json.dumps({name: get_diff_for_mutant(name, path=find_mutant(name).path) for name in names}))
"""


def diffs(workdir: Path, names: list[str]) -> dict[str, str]:
    """Each mutant's diff against the original source."""
    if not names:
        return {}
    found = subprocess.run(
        [sys.executable, "-c", _DIFFS],
        cwd=workdir,
        input=json.dumps(names),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {name: diff.strip() for name, diff in json.loads(found).items()}


def added_lines(diff: str) -> list[str]:
    return [
        line[1:].strip() for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")
    ]


def run_module(module: Module, max_children: int) -> dict[str, Any]:
    """Mutate one module; return its counts and survivors."""
    workdir = WORK / module.name
    snapshot(module, workdir)
    start = time.perf_counter()
    log = workdir / "mutmut.log"
    try:
        mutmut(workdir, "run", "--max-children", str(max_children), log=log)
    except subprocess.CalledProcessError:
        # Typically: the module's tests fail without any mutant ("Failed to run clean test").
        tail = [line for line in log.read_text(errors="replace").splitlines() if line.strip()][-5:]
        return {
            "module": module.path,
            "tests": list(module.tests),
            "error": f"mutmut failed (log: {log.relative_to(ROOT)}): " + " / ".join(tail),
            "seconds": round(time.perf_counter() - start, 1),
        }
    seconds = time.perf_counter() - start

    statuses: dict[str, str] = {}
    for line in mutmut(workdir, "results", "--all", "true").splitlines():
        match = re.fullmatch(r"\s+(\S+): (.+)", line)
        if match:
            statuses[match.group(1)] = match.group(2).strip()
    counts = {status: sum(1 for s in statuses.values() if s == status) for status in set(statuses.values())}

    names = [name for name, status in sorted(statuses.items()) if status not in DETECTED]
    survivors = [
        {"mutant": name, "status": statuses[name], "diff": diff}
        for name, diff in diffs(workdir, names).items()
    ]
    return judged(
        {
            "module": module.path,
            "tests": list(module.tests),
            "mutants": len(statuses),
            "killed": counts.get("killed", 0),
            "timeout": counts.get("timeout", 0) + counts.get("segfault", 0),
            "survived": counts.get("survived", 0),
            "no_tests": counts.get("no tests", 0),
            "other": {s: n for s, n in counts.items() if s not in (*DETECTED, "survived", "no tests")},
            "seconds": round(seconds, 1),
            "survivors": survivors,
        }
    )


def judged(result: dict[str, Any]) -> dict[str, Any]:
    """Mark the survivors ``EXPLAINED`` covers (if the mutant still writes the same line); score."""
    for survivor in result["survivors"]:
        expected, reason = EXPLAINED.get(survivor["mutant"], ("", ""))
        survivor["equivalent"] = bool(expected) and any(
            expected in line for line in added_lines(survivor["diff"])
        )
        survivor["reason"] = reason if survivor["equivalent"] else ""
    mutants = result["mutants"]
    detected = result["killed"] + result["timeout"]
    equivalent = sum(1 for survivor in result["survivors"] if survivor["equivalent"])
    result["equivalent"] = equivalent
    result["score"] = round(detected / mutants, 4) if mutants else None
    result["score_non_equivalent"] = (
        round(detected / (mutants - equivalent), 4) if mutants > equivalent else None
    )
    return result


def percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


def table(results: dict[str, Any]) -> str:
    rows = [
        "| module | tests | mutants | killed | timeout | survived | no tests | equivalent | unexplained "
        "| score | score (non-equivalent) | time |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in [m.name for m in MODULES if m.name in results["modules"]]:
        r = results["modules"][name]
        tests = ", ".join(Path(t).name for t in r["tests"])
        if "error" in r:
            rows.append(f"| `{r['module']}` | {tests} | not run: {r['error'][:200]} |" + " |" * 9)
            continue
        rows.append(
            f"| `{r['module']}` | {tests} | {r['mutants']} | {r['killed']} | {r['timeout']} "
            f"| {r['survived']} | {r['no_tests']} | {r['equivalent']} "
            f"| {len(r['survivors']) - r['equivalent']} | {percent(r['score'])} "
            f"| **{percent(r['score_non_equivalent'])}** | {r['seconds'] / 60:.1f} min |"
        )
    return "\n".join(rows)


def write_reports(results: dict[str, Any]) -> None:
    (BENCH / "mutation.json").write_text(json.dumps(results, indent=2) + "\n")
    notes = (
        f"Tool: {results['tool']}, `{results['command']}` ({results['max_children']} children on "
        f"{results['cores']} cores). Score: (killed + timeout) / mutants; non-equivalent: the same "
        "over the mutants not explained as equivalent or harmless in `mutation-survivors.md`. "
        "Each module runs only its own tests (column 2). mutmut 3 does not mutate module-level "
        "constants, decorated functions other than staticmethod/classmethod (the `@gate_handler` "
        "entry points, `@property` methods) or docstrings."
    )
    (BENCH / "mutation.md").write_text(table(results) + "\n\n" + notes + "\n")

    out = [
        "# Surviving mutants",
        "",
        "Written by `make mutate` (`benchmarks/mutate.py`); the reasons live in its `EXPLAINED` table.",
        "A survivor marked **unexplained** is a gap in the tests until shown otherwise.",
    ]
    for name in [m.name for m in MODULES if m.name in results["modules"]]:
        r = results["modules"][name]
        out += ["", f"## `{r['module']}`", ""]
        if "error" in r:
            out.append(f"Not run: {r['error']}")
        elif not r["survivors"]:
            out.append("No survivors.")
        for survivor in r.get("survivors", []):
            verdict = (
                f"equivalent/harmless: {survivor['reason']}" if survivor["equivalent"] else "**unexplained**"
            )
            out += [
                f"### `{survivor['mutant']}` ({survivor['status']})",
                "",
                verdict,
                "",
                "```diff",
                survivor["diff"],
                "```",
                "",
            ]
    (BENCH / "mutation-survivors.md").write_text("\n".join(out).rstrip() + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("modules", nargs="*", metavar="MODULE", help=f"any of {', '.join(BY_NAME)}")
    parser.add_argument("--max-children", type=int, default=os.cpu_count() or 2)
    parser.add_argument(
        "--report", action="store_true", help="mutate nothing: re-judge the survivors and rewrite the reports"
    )
    args = parser.parse_args(argv)
    names = args.modules or [n for n in os.environ.get("MUTATE_MODULES", "").split(",") if n] or list(BY_NAME)
    unknown = sorted(set(names) - BY_NAME.keys())
    if unknown:
        sys.exit(f"unknown module(s) {', '.join(unknown)}; choose from {', '.join(BY_NAME)}")

    path = BENCH / "mutation.json"
    previous = json.loads(path.read_text()) if path.exists() else {}
    if args.report:
        for result in previous.get("modules", {}).values():
            if "error" not in result:
                judged(result)
        write_reports(previous)
        return
    results: dict[str, Any] = {
        "tool": f"mutmut {metadata.version('mutmut')}",
        "command": "make mutate  (python benchmarks/mutate.py [MODULE ...])",
        "max_children": args.max_children,
        "cores": os.cpu_count(),
        "modules": previous.get("modules", {}),
    }
    for name in names:
        module = BY_NAME[name]
        print(f"mutating {module.path} against {', '.join(module.tests)} ...", flush=True)
        result = run_module(module, args.max_children)
        results["modules"][name] = result
        write_reports(results)
        if "error" in result:
            print(f"  {result['error']}", flush=True)
            continue
        unexplained = sum(1 for s in result["survivors"] if not s["equivalent"])
        print(
            f"  {result['mutants']} mutants: {result['killed']} killed, {result['timeout']} timeout, "
            f"{result['survived']} survived, {result['no_tests']} no tests; "
            f"{unexplained} unexplained survivor(s); score {percent(result['score_non_equivalent'])} "
            f"(non-equivalent) in {result['seconds'] / 60:.1f} min",
            flush=True,
        )
    print(
        f"wrote {', '.join(p.name for p in (path, BENCH / 'mutation.md', BENCH / 'mutation-survivors.md'))}"
    )


if __name__ == "__main__":
    main()

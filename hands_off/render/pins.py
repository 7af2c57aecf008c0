"""What the integration-test steps install, pinned by version and sha256 (issue 8).

The pipeline's integration tests run in CodeBuild steps of their own, outside the repository's
virtualenv; they need boto3. These are the entries of ``requirements.lock`` for boto3 and its
dependencies (a test fails when the two disagree: re-copy them after ``make lock``).
"""

from __future__ import annotations

import shlex

__all__ = ["INTEGRATION_TEST_REQUIREMENTS", "install_commands"]

INTEGRATION_TEST_REQUIREMENTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "boto3==1.44.5",
        (
            "667b344e25d2bcbb7c42fcf6b92a07bb1d73ee9d6d12c3a7873ec4c490b6fb64",
            "70c3e0409794b29ec1900bcaff0695b73234a2d32ffaed35045b94caa26212a5",
        ),
    ),
    (
        "botocore==1.44.8",
        (
            "76342a76c338701db80dcb8afe1c9bd079283d6fffbb9d881442abb02a215043",
            "945b783c1a1259e2a8b078f3f3dd40fae32ea84ab01d3a9953af6b378da7108a",
        ),
    ),
    (
        "jmespath==1.1.0",
        (
            "472c87d80f36026ae83c6ddd0f1d05d4e510134ed462851fd5f754c8c3cbb88d",
            "a5663118de4908c91729bea0acadca56526eb2698e83de10cd116ae0f4e97c64",
        ),
    ),
    (
        "python-dateutil==2.9.0.post0",
        (
            "37dd54208da7e1cd875388217d5e00ebd4179249f90fb72437e91a35459a0ad3",
            "a8b2bc7bffae282281c8140a97d3aa9c14da0b136dfe83f850eea9a5f7470427",
        ),
    ),
    (
        "s3transfer==0.19.3",
        (
            "24eb7535804306355e31c952a90022bf5b2f9d760f9a11062c7493a217c08553",
            "8326acc3d056d7f7b8a37110c7d2aea41f67e83f6ae79cd3b5fbcca34c726406",
        ),
    ),
    (
        "six==1.17.0",
        (
            "4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274",
            "ff70335d468e7eb6ec65b95b99d3a2836546063f63acc5171de367e834932a81",
        ),
    ),
    (
        "urllib3==2.8.0",
        (
            "0cf3cae568d36aa9576b28dfb35f11328f1cb974ca7647d9475ebb86c75ac6e3",
            "63bf2ead4c879426ebf22ef2a781eeb4aa3b4ae798a0435506f8687fd5bb9b63",
        ),
    ),
)
"""``(name==version, sha256 hashes)`` of everything ``pip install boto3`` installs."""

_FILE = "/tmp/hands-off-integration-requirements.txt"


def install_commands() -> list[str]:
    """Write the requirements with their hashes, then install them with ``--require-hashes``."""
    lines = [
        " ".join([pin, *(f"--hash=sha256:{digest}" for digest in hashes)])
        for pin, hashes in INTEGRATION_TEST_REQUIREMENTS
    ]
    return [
        f"printf '%s\\n' {' '.join(shlex.quote(line) for line in lines)} > {_FILE}",
        f"pip install --quiet --require-hashes -r {_FILE}",
    ]

"""The standard suite for every connector a plugin installs through the ``hub.connectors`` entry
point, and proof that it runs on one: the sample plugin in sample_plugin/, installed for real
(a dist-info on the path of a child pytest), passes it through the same test class."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from connectors import registry
from connectors.testing import HARNESS_ENTRY_POINT_GROUP, ConnectorSuite, installed_plugins

ROOT = Path(__file__).resolve().parents[3]
SAMPLE_PLUGIN = Path(__file__).parent / "sample_plugin"
PLUGINS = installed_plugins()  # read at collection: the suite is parametrised by what is installed
ENTRY_POINTS = f"""\
[{registry.ENTRY_POINT_GROUP}]
acmebilling = acme_hub_plugin.connector:AcmeBillingConnector

[{HARNESS_ENTRY_POINT_GROUP}]
acmebilling = acme_hub_plugin.testing:AcmeBillingHarness
"""


class TestInstalledConnectors(ConnectorSuite):
    harnesses = tuple(harness for harness in PLUGINS.values() if harness is not None)
    __test__ = bool(harnesses)  # the hub ships no plugin: nothing to collect, rather than 47 skips


def test_every_installed_plugin_declares_a_harness():
    missing = sorted(name for name, harness in PLUGINS.items() if harness is None)
    assert not missing, f"declare a harness in the {HARNESS_ENTRY_POINT_GROUP} entry point for {missing}"


def install_sample_plugin(site: Path) -> None:
    """What pip leaves behind, reduced to what importlib.metadata reads: a dist-info folder."""
    dist_info = site / "acme_hub_plugin-0.1.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-hub-plugin\nVersion: 0.1\n")
    (dist_info / "entry_points.txt").write_text(ENTRY_POINTS)


def test_suite_runs_on_a_plugin_installed_through_the_entry_point(tmp_path):
    install_sample_plugin(tmp_path)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(SAMPLE_PLUGIN)])}
    node = f"{Path(__file__).relative_to(ROOT)}::TestInstalledConnectors"
    result = subprocess.run([sys.executable, "-m", "pytest", node, "-v"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    passed = re.findall(r"::(test_\w+)\[acmebilling[^\]]*\] PASSED", result.stdout)
    assert len(passed) > 60, result.stdout[-3000:]
    ran = {name for name in dir(ConnectorSuite) if name.startswith("test_")}
    skipped_by_design = {"test_hostile_xml_is_refused_with_a_fault_before_storing",  # a JSON vendor
                         "test_redact_body_stays_linear_with_unclosed_credential_tags"}  # no body credentials
    assert set(passed) == ran - skipped_by_design

"""MQTT with a topic other than the default: the probe must never read a device's message."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from safemirror.guard.model import State
from tests.conftest import require
from tests.guard.guard_support import HOST, launch_mosquitto, probe

pytestmark = pytest.mark.services

PAYLOAD = "door-code 4711 unlocked"


def test_a_retained_message_on_the_chosen_topic_is_not_read_as_a_version() -> None:
    require(shutil.which("mosquitto") is not None, "mosquitto is not installed")
    require(shutil.which("mosquitto_pub") is not None, "mosquitto_pub is not installed")
    broker = launch_mosquitto(anonymous=True).wait()
    try:
        publish = ["mosquitto_pub", "-h", HOST, "-p", str(broker.port), "-t", "plant/door"]
        subprocess.run(
            [*publish, "-r", "-m", PAYLOAD],
            check=True,
            capture_output=True,
            timeout=10,
        )
        result = probe(
            {
                "name": "m",
                "kind": "mqtt",
                "address": f"{HOST}:{broker.port}",
                "settings": {"topic": "plant/door"},
            }
        )
    finally:
        broker.stop()
    assert result.state is State.EXPOSED
    assert result.observation.version is None
    text = repr(result.observation.to_dict()) + repr([f.to_dict() for f in result.findings])
    assert "4711" not in text and "unlocked" not in text

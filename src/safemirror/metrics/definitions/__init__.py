"""The six business metrics, one module each; importing this package registers them."""

from safemirror.metrics.definitions import (
    active_devices,
    camera_connectivity,
    device_activations,
    devices_per_user,
    failed_connection_rate,
    user_growth,
)

__all__ = [
    "active_devices",
    "camera_connectivity",
    "device_activations",
    "devices_per_user",
    "failed_connection_rate",
    "user_growth",
]

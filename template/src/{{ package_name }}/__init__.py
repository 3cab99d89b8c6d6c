"""{{ project_name }}."""

from .device import describe_device

__all__ = ["describe_device"]

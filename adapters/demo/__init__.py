"""Simulated sensors, written as a vendor writes an adapter; `agora adapters run demo`."""

from adapters.demo.config import DemoConfig
from adapters.demo.sensors import SimulatedSensors
from adapters.sdk import AdapterPlugin

plugin = AdapterPlugin.from_folder(__file__, DemoConfig, SimulatedSensors)

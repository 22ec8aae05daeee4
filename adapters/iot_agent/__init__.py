"""The FIWARE IoT Agent-compatible adapter (JSON and UltraLight 2.0 over MQTT and HTTP);
`agora adapters run iot-agent`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from adapters.iot_agent.config import IotAgentConfig
from adapters.sdk import AdapterPlugin

if TYPE_CHECKING:
    from adapters.iot_agent.agent import IotAgent


def create(config: IotAgentConfig) -> IotAgent:
    """The agent; its modules (MQTT client, HTTP servers) load only when it is created."""
    from adapters.iot_agent.agent import IotAgent

    return IotAgent(config)


plugin = AdapterPlugin.from_folder(__file__, IotAgentConfig, create)

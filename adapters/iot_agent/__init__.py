"""The FIWARE IoT Agent-compatible adapter (JSON and UltraLight 2.0 over MQTT and HTTP)."""

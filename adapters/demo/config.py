"""The demo adapter's configuration."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True)
class DemoConfig:
    """Simulated sensors: how many, of which kind, how often."""

    sensors: int = 3
    kind: Literal["WeatherObserved", "ParkingSpot"] = "WeatherObserved"
    interval: float = 5.0
    site: str = "demo"
    latitude: float = 39.4699
    longitude: float = -0.3763
    tenant: str | None = None
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.sensors < 1:
            raise ValueError("sensors must be at least 1")
        if self.interval <= 0:
            raise ValueError("interval must be positive")

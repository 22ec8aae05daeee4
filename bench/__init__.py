"""Load scenarios for the broker and the bare aiohttp baseline they are measured against."""

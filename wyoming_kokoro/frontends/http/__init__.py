"""The HTTP API: control endpoints, OpenAI-compatible speech and a web page, served by aiohttp
in the server's event loop beside the Wyoming server (a thin adapter over the synthesis service)."""

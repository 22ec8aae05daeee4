"""The `agora` command."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import signal
import sys
from typing import TYPE_CHECKING

from broker import __version__
from broker.settings import Settings, settings_table

if TYPE_CHECKING:
    from aiohttp import web


def serve_settings(args: argparse.Namespace) -> Settings:
    """The settings of `agora serve`: defaults, AGORA_* variables, then the flags given."""
    return Settings.from_env(
        host=args.host,
        port=args.port,
        store=args.store,
        allow_private_urls=True if args.allow_private_urls else None,
        log_level=args.log_level,
        validation=args.validation,
    )


def _serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from broker.app import create_app

    settings = serve_settings(args)
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        app = create_app(settings)
    except ValueError as exc:
        print(f"agora: {exc}", file=sys.stderr)
        return 2
    app.on_startup.append(_freeze_heap)
    loop: asyncio.AbstractEventLoop
    try:
        import uvloop

        loop = uvloop.new_event_loop()
    except ImportError:
        loop = asyncio.new_event_loop()
    if args.adapters:
        return _serve_with_adapters(app, settings, args, loop)
    web.run_app(
        app,
        host=settings.host,
        port=settings.port,
        loop=loop,
        access_log=logging.getLogger("aiohttp.access") if settings.access_log else None,
        print=lambda msg: logging.getLogger("agora").info(
            "Agora %s serving NGSI-LD on http://%s:%s (store %s)",
            __version__, settings.host, settings.port, settings.store,
        ),
    )
    return 0


def _serve_with_adapters(
    app: web.Application,
    settings: Settings,
    args: argparse.Namespace,
    loop: asyncio.AbstractEventLoop,
) -> int:
    """One process: the broker, and adapters publishing to it over loopback HTTP. On
    SIGINT/SIGTERM the adapters stop and flush while the broker still listens."""
    from aiohttp import web

    from adapters.runtime import commands
    from adapters.runtime.http import health_app

    host = "127.0.0.1" if settings.host in ("0.0.0.0", "", "::") else settings.host
    own_url = f"http://{host}:{settings.port}"
    try:
        runtime = commands.configure_runtime(args.adapters, own_url, args.adapters_config)
    except (LookupError, RuntimeError, ValueError) as exc:
        print(f"agora: {exc}", file=sys.stderr)
        return 2
    app.add_subapp("/adapters/", health_app(runtime))

    async def serve() -> None:
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        access_log = logging.getLogger("aiohttp.access") if settings.access_log else None
        runner = web.AppRunner(app, access_log=access_log)
        await runner.setup()
        await web.TCPSite(runner, settings.host, settings.port).start()
        logging.getLogger("agora").info(
            "Agora %s serving NGSI-LD on http://%s:%s (store %s) with adapters %s",
            __version__, settings.host, settings.port, settings.store,
            ", ".join(args.adapters),
        )
        try:
            async with commands.running(runtime):
                await stop.wait()
        finally:
            await runner.cleanup()

    try:
        loop.run_until_complete(serve())
    finally:
        loop.close()
    return 0


GC_THRESHOLDS = (100_000, 50, 100)
"""Collector thresholds for a serving process. Requests allocate thousands of short-lived
containers; with the interpreter's defaults (700, 10, 10) the collector ran every couple of
requests and a full pass every few hundred, about a tenth of the CPU of a write. Cyclic
garbage is rare here (reference counting frees the rest), so collecting less often costs
little memory. A young-generation pass walks every young container still alive, and under
load that is mostly the requests in flight (32 batches of 100 entities hold some 100,000):
at 10,000 the collector ran 30 times a second under batch upserts and took 8 % of the
process's CPU, at 100,000 it takes about 1 %."""


def tune_collector() -> None:
    """Once a serving process has started: everything allocated so far (modules, contexts,
    the store's state) lives as long as the process, so the collector stops scanning it;
    then collect at `GC_THRESHOLDS`."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


async def _freeze_heap(app: object) -> None:
    tune_collector()


def _settings(args: argparse.Namespace) -> int:
    sys.stdout.write(settings_table())
    return 0


def _models(args: argparse.Namespace) -> int:
    from data_models import commands

    if args.models_command == "list":
        return commands.list_command()
    if args.models_command == "show":
        return commands.show_command(args.type, args.part)
    return commands.validate_command(args.file)


def _add_models_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    models = sub.add_parser("models", help="the bundled Smart Data Models")
    models_sub = models.add_subparsers(dest="models_command", required=True)
    models_sub.add_parser("list", help="list the bundled models (type, subject, attributes)")
    show = models_sub.add_parser("show", help="print a model's schema, context or example")
    show.add_argument("type", help="entity type, e.g. ParkingSpot")
    part = show.add_mutually_exclusive_group()
    part.add_argument("--context", dest="part", action="store_const", const="context",
                      help="print the JSON-LD context")
    part.add_argument("--example", dest="part", action="store_const", const="example",
                      help="print the keyValues example")
    part.add_argument("--example-normalized", dest="part", action="store_const",
                      const="example-normalized", help="print the normalized example")
    show.set_defaults(part="schema")
    check = models_sub.add_parser(
        "validate",
        help="validate a JSON file of one entity or an array (normalized, concise or "
        "keyValues); exit 0 valid, 1 invalid, 2 unreadable",
    )
    check.add_argument("file", help="path of the JSON file")
    models.set_defaults(func=_models)


def _adapters(args: argparse.Namespace) -> int:
    from adapters.runtime import commands

    if args.adapters_command == "list":
        return commands.list_command(as_json=args.json)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    return commands.run_command(
        args.names, args.broker, args.config, host=args.health_host, port=args.health_port
    )


def _add_adapters_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    adapters = sub.add_parser("adapters", help="southbound adapters (entry points agora.adapters)")
    adapters_sub = adapters.add_subparsers(dest="adapters_command", required=True)
    listing = adapters_sub.add_parser("list", help="installed adapters and their manifests")
    listing.add_argument("--json", action="store_true", help="print the manifests as JSON")
    run = adapters_sub.add_parser(
        "run", help="run adapters against a broker until SIGINT/SIGTERM"
    )
    run.add_argument("names", nargs="+", metavar="NAME", help="adapter names")
    run.add_argument("--broker", default="http://127.0.0.1:1026",
                     help="NGSI-LD broker URL (default http://127.0.0.1:1026)")
    run.add_argument("--config", help="TOML or JSON file: a table per adapter name, and "
                     "[publish] for batching and retries")
    run.add_argument("--health-host", default="127.0.0.1",
                     help="address of /health and /metrics (default 127.0.0.1)")
    run.add_argument("--health-port", type=int, default=9464,
                     help="port of /health and /metrics (default 9464)")
    run.add_argument("--log-level", default="INFO", help="logging level (default INFO)")
    adapters.set_defaults(func=_adapters)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="agora", description="Agora NGSI-LD context broker")
    parser.add_argument("--version", action="version", version=f"agora {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the broker")
    serve.add_argument("--host", help="listen address (AGORA_HOST, default 0.0.0.0)")
    serve.add_argument("--port", type=int, help="listen port (AGORA_PORT, default 1026)")
    serve.add_argument(
        "--store", help="store URL (AGORA_STORE, default sqlite:///data/agora.db)"
    )
    serve.add_argument(
        "--allow-private-urls",
        action="store_true",
        help="allow fetching @context URLs on private/loopback/link-local addresses "
        "(AGORA_ALLOW_PRIVATE_URLS)",
    )
    serve.add_argument("--log-level", help="logging level (AGORA_LOG_LEVEL, default INFO)")
    serve.add_argument(
        "--validation", choices=("off", "warn", "enforce"),
        help="check writes of the bundled Smart Data Models types (AGORA_VALIDATION, default "
        "off; AGORA_VALIDATION_TENANTS sets it per tenant)",
    )
    serve.add_argument("--adapters", nargs="+", metavar="NAME",
                       help="also run these adapters in this process, publishing to it "
                       "(health and metrics under /adapters/)")
    serve.add_argument("--adapters-config", metavar="FILE",
                       help="TOML or JSON configuration of the adapters")
    serve.set_defaults(func=_serve)
    show = sub.add_parser("settings", help="print every setting, its variable and default")
    show.set_defaults(func=_settings)
    _add_models_parser(sub)
    _add_adapters_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())

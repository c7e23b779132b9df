"""The `pravis-api` command: serve, migrate, create-superuser, seed-demo,
purge, backup and restore."""

import argparse
import asyncio
import getpass
import logging
import os
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from pravis_api.core.config import Settings
from pravis_api.core.logging import configure_logging

if TYPE_CHECKING:
    from pravis_api.services.storage import BlobStore

logger = logging.getLogger("pravis_api.cli")


def _load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        # Exit with the reasons only: pydantic's message includes the input
        # values, and one of them may be SECRET_KEY.
        reasons = "\n".join(
            f"  {'.'.join(map(str, error['loc'])) or 'settings'}: {error['msg']}"
            for error in exc.errors()
        )
        sys.exit(f"Invalid configuration:\n{reasons}")


def _alembic_ini() -> Path:
    # Look at the root of the source checkout this module was installed
    # from first, so that an alembic.ini of another project in the working
    # directory cannot run its migrations here. An installed wheel has no
    # such root, and then the working directory's file is used (the image
    # runs from /app, which contains this project's alembic.ini).
    candidates = [
        Path(__file__).resolve().parents[2] / "alembic.ini",
        Path.cwd() / "alembic.ini",
    ]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    sys.exit("alembic.ini not found; run this command from the repository root.")


def _exit_after_graceful_stop(signum: int, frame: FrameType | None) -> None:
    # uvicorn handles SIGTERM itself while it serves. After its graceful
    # shutdown it restores this handler and raises the signal again, so a
    # clean stop ends here with status 0 instead of death by SIGTERM. A
    # SIGTERM that arrives before uvicorn starts serving also ends here.
    sys.exit(0)


def serve(args: argparse.Namespace) -> None:
    import uvicorn

    # Fail here with a readable message, not in a worker.
    settings = _load_settings()
    signal.signal(signal.SIGTERM, _exit_after_graceful_stop)
    uvicorn.run(
        "pravis_api.main:create_app",
        factory=True,
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=args.workers or settings.web_concurrency,
        reload=args.reload,
        log_config=None,  # the app configures logging itself
        proxy_headers=settings.trusts_proxy_headers,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        timeout_graceful_shutdown=settings.graceful_shutdown_timeout_seconds,
        server_header=False,
    )


async def _create_database_if_missing(settings: Settings) -> None:
    import asyncpg
    from sqlalchemy.engine import make_url

    url = make_url(settings.sqlalchemy_database_url)
    connection = await asyncpg.connect(
        host=url.host,
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        database="postgres",
        timeout=settings.db_connect_timeout_seconds,
    )
    try:
        exists = await connection.fetchval(
            "SELECT 1 FROM pg_database WHERE datname = $1", url.database
        )
        if not exists:
            # Identifiers cannot be bound as parameters; quote it instead.
            quoted = '"' + str(url.database).replace('"', '""') + '"'
            await connection.execute(f"CREATE DATABASE {quoted}")
            print(f"Created database {url.database}.")
    finally:
        await connection.close()


def migrate(args: argparse.Namespace) -> None:
    from alembic import command
    from alembic.config import Config

    settings = _load_settings()
    if args.create_database:
        asyncio.run(_create_database_if_missing(settings))

    config = Config(str(_alembic_ini()))
    config.attributes["database_url"] = settings.sqlalchemy_database_url
    print(f"Migrating {settings.database_url_for_logs} to {args.revision}.")
    command.upgrade(config, args.revision)
    print("The database is now at revision:")
    command.current(config)


async def _create_superuser(
    settings: Settings, email: str, password: str, full_name: str | None
) -> str:
    from pravis_api.core.security import hash_password
    from pravis_api.db.engine import create_engine, create_session_factory
    from pravis_api.models.user import User, UserCreate
    from pravis_api.repositories.users import add_user, get_user_by_email

    payload = UserCreate(email=email, password=password, full_name=full_name)
    engine = create_engine(settings)
    try:
        async with create_session_factory(engine)() as session:
            user = await get_user_by_email(session, payload.email)
            if user is not None:
                user.is_admin = True
                user.is_active = True
                user.hashed_password = await hash_password(payload.password)
                session.add(user)
                await session.commit()
                return f"Updated {user.email}: admin, active, new password."
            user = User(
                email=payload.email,
                full_name=payload.full_name,
                hashed_password=await hash_password(payload.password),
                is_admin=True,
            )
            await add_user(session, user)
            return f"Created admin {user.email}."
    finally:
        await engine.dispose()


def create_superuser(args: argparse.Namespace) -> None:
    settings = _load_settings()
    password = os.environ.get("PRAVIS_SUPERUSER_PASSWORD")
    if password is None:
        if not sys.stdin.isatty():
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = getpass.getpass("Password: ")
            if getpass.getpass("Password again: ") != password:
                sys.exit("The passwords do not match.")
    if not password:
        sys.exit(
            "No password given. Set PRAVIS_SUPERUSER_PASSWORD, pipe it on "
            "standard input, or run in a terminal to be prompted."
        )
    try:
        message = asyncio.run(
            _create_superuser(settings, args.email, password, args.full_name)
        )
    except ValidationError as exc:
        reasons = "; ".join(
            f"{'.'.join(map(str, error['loc']))}: {error['msg']}"
            for error in exc.errors()
        )
        sys.exit(f"Invalid user: {reasons}")
    print(message)


async def _invalidate_cache(settings: Settings, *namespaces: str) -> None:
    """Make the API's cached responses of these namespaces stale."""
    from redis.asyncio import Redis

    from pravis_api.services.redis_guard import REDIS_ERRORS
    from pravis_api.services.response_cache import invalidate_namespaces

    redis = Redis.from_url(
        settings.redis_url.get_secret_value(),
        socket_timeout=settings.redis_timeout_seconds,
        socket_connect_timeout=settings.redis_timeout_seconds,
    )
    try:
        await invalidate_namespaces(redis, *namespaces)
    except REDIS_ERRORS as exc:
        print(
            f"Warning: the response cache could not be cleared ({exc!r}); the API "
            f"may serve older {', '.join(namespaces)} responses for up to "
            f"CACHE_TTL_SECONDS ({settings.cache_ttl_seconds} s).",
            file=sys.stderr,
        )
    finally:
        await redis.aclose()


async def _seed_demo(settings: Settings) -> tuple[int, int]:
    from pravis_api.db.engine import create_engine, create_session_factory
    from pravis_api.services.catalogue import seed_demo_catalogue
    from pravis_api.services.response_cache import CATALOGUE, POLICIES

    engine = create_engine(settings)
    try:
        async with create_session_factory(engine)() as session:
            counts = await seed_demo_catalogue(
                session, currency=settings.store_currency
            )
    finally:
        await engine.dispose()
    await _invalidate_cache(settings, CATALOGUE, POLICIES)
    return counts


def seed_demo(args: argparse.Namespace) -> None:
    settings = _load_settings()
    created, updated = asyncio.run(_seed_demo(settings))
    print(
        f"Demo catalogue: {created} products created, {updated} updated, "
        f"prices in {settings.store_currency}; store policies written."
    )


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 1 or more")
    return value


def _port(text: str) -> int:
    value = _positive_int(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a TCP port (1 to 65535)")
    return value


# Key of the PostgreSQL advisory lock that keeps two purges from running at
# once: the first 8 bytes of SHA-256("pravis-api purge") as a signed integer.
_PURGE_LOCK_KEY = 0x4D70FDDCE6AD1C65


async def _purge(settings: Settings, retention_days: int, dry_run: bool) -> int:
    from sqlalchemy import text

    from pravis_api.db.engine import create_engine, create_session_factory
    from pravis_api.services.retention import preview_purge, purge
    from pravis_api.services.storage import BlobStore, create_blob_service

    engine = create_engine(settings)
    blobs = BlobStore(
        create_blob_service(settings),
        settings.azure_storage_container_name,
        timeout=settings.blob_timeout_seconds,
    )
    lock = {"key": _PURGE_LOCK_KEY}
    try:
        async with engine.connect() as lock_connection:
            locked = await lock_connection.scalar(
                text("SELECT pg_try_advisory_lock(:key)"), lock
            )
            if not locked:
                print("Another purge is running; nothing to do.")
                return 0
            try:
                async with create_session_factory(engine)() as session:
                    if dry_run:
                        preview = await preview_purge(session, retention_days)
                    else:
                        report = await purge(session, blobs, retention_days)
            finally:
                await lock_connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), lock
                )
    finally:
        await blobs.close()
        await engine.dispose()

    if not dry_run:
        from pravis_api.services.response_cache import HISTORY

        await _invalidate_cache(settings, HISTORY)
    if dry_run:
        print(
            f"Would purge data older than {preview.cutoff:%Y-%m-%d %H:%M} UTC: "
            f"{preview.recordings} recordings and "
            f"{preview.anonymous_interactions} anonymous interactions, and "
            f"retry {preview.queued_blobs} queued blob deletions."
        )
        return 0
    print(
        f"Purged data older than {report.cutoff:%Y-%m-%d %H:%M} UTC: "
        f"{report.recordings_deleted} recordings, "
        f"{report.anonymous_interactions_deleted} anonymous interactions, "
        f"{report.queued_blobs_deleted} queued blobs, "
        f"{report.expired_tokens_deleted} expired tokens."
    )
    if report.blobs_failed:
        print(
            f"{report.blobs_failed} blobs could not be deleted (see the log); "
            "the next run retries them.",
            file=sys.stderr,
        )
        return 1
    return 0


def purge_command(args: argparse.Namespace) -> None:
    settings = _load_settings()
    configure_logging(settings.log_level, json_lines=not settings.is_development)
    retention_days = args.retention_days or settings.voice_retention_days
    sys.exit(asyncio.run(_purge(settings, retention_days, args.dry_run)))


def _blob_store(settings: Settings) -> "BlobStore":
    from pravis_api.services.storage import BlobStore, create_blob_service

    return BlobStore(
        create_blob_service(settings),
        settings.azure_storage_container_name,
        timeout=settings.blob_timeout_seconds,
    )


async def _backup(settings: Settings) -> dict[str, Any]:
    from pravis_api.db.engine import create_engine
    from pravis_api.services.backup import run_backup

    engine = create_engine(settings)
    blobs = _blob_store(settings)
    try:
        await blobs.ensure_container()
        return await run_backup(engine, blobs, settings)
    finally:
        await blobs.close()
        await engine.dispose()


def backup_command(args: argparse.Namespace) -> None:
    settings = _load_settings()
    configure_logging(settings.log_level, json_lines=not settings.is_development)
    manifest = asyncio.run(_backup(settings))
    for table in manifest["tables"]:
        print(f"  {table['table']}: {table['rows']} rows, {table['bytes']} bytes")
    print(
        f"  recordings listed (not copied): {manifest['recordings']['count']}\n"
        f"Backup {manifest['backup_id']} written to "
        f"{settings.azure_storage_container_name}/{settings.backup_prefix}/"
        f"{manifest['backup_id']}/."
    )


async def _restore(settings: Settings, backup_id: str) -> dict[str, int]:
    from pravis_api.db.engine import create_engine
    from pravis_api.services.backup import restore_backup
    from pravis_api.services.response_cache import ALL

    engine = create_engine(settings)
    blobs = _blob_store(settings)
    try:
        restored = await restore_backup(engine, blobs, settings, backup_id)
    finally:
        await blobs.close()
        await engine.dispose()
    await _invalidate_cache(settings, ALL)
    return restored


def restore_command(args: argparse.Namespace) -> None:
    from pravis_api.services.backup import BackupError

    settings = _load_settings()
    configure_logging(settings.log_level, json_lines=not settings.is_development)
    try:
        restored = asyncio.run(_restore(settings, args.backup_id))
    except BackupError as exc:
        sys.exit(f"Restore refused: {exc}")
    for table, rows in restored.items():
        print(f"  {table}: {rows} rows")
    print(f"Restored backup {args.backup_id} into {settings.database_url_for_logs}.")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pravis-api", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve_parser = commands.add_parser(
        "serve",
        help="run the API with uvicorn",
        description="Serve the API. Each option overrides its setting from the "
        "environment or .env. On SIGTERM the server stops accepting connections "
        "and gives requests in flight GRACEFUL_SHUTDOWN_TIMEOUT_SECONDS to "
        "finish. Requests still running then get 503. It then stops the speech "
        "workers, closes its connections and exits with status 0.",
    )
    serve_parser.add_argument(
        "--host", help="address to bind (default: HOST, else 127.0.0.1)"
    )
    serve_parser.add_argument(
        "--port", type=_port, help="TCP port (default: PORT, else 8000)"
    )
    serve_parser.add_argument(
        "--workers",
        type=_positive_int,
        help="uvicorn worker processes (default: WEB_CONCURRENCY, else 1)",
    )
    serve_parser.add_argument(
        "--reload", action="store_true", help="restart on code changes"
    )
    serve_parser.set_defaults(handler=serve)

    migrate_parser = commands.add_parser("migrate", help="apply database migrations")
    migrate_parser.add_argument(
        "--revision",
        default="head",
        help="Alembic revision to upgrade to (default head)",
    )
    migrate_parser.add_argument(
        "--create-database",
        action="store_true",
        help="create the database first if it does not exist",
    )
    migrate_parser.set_defaults(handler=migrate)

    superuser_parser = commands.add_parser(
        "create-superuser",
        help="create an admin account, or make an existing account admin",
        description="The password is read from PRAVIS_SUPERUSER_PASSWORD, "
        "else from standard input, else from a prompt.",
    )
    superuser_parser.add_argument("--email", required=True, help="the admin's e-mail")
    superuser_parser.add_argument("--full-name", default=None, help="the admin's name")
    superuser_parser.set_defaults(handler=create_superuser)

    seed_parser = commands.add_parser(
        "seed-demo",
        help="load the demo catalogue and store policies",
        description="Insert the demo products, or refresh them by slug when they "
        "exist, and write the store policies. Products added by the shop are kept.",
    )
    seed_parser.set_defaults(handler=seed_demo)

    purge_parser = commands.add_parser(
        "purge",
        help="delete recordings and anonymous interactions past retention",
        description="Delete recordings older than VOICE_RETENTION_DAYS, and the "
        "interactions of anonymous shoppers as old; signed-in shoppers keep the "
        "text of theirs. Also retries blob deletions that failed and deletes "
        "expired tokens. Meant to run daily from a scheduler; exits 1 when a "
        "blob could not be deleted.",
    )
    purge_parser.add_argument(
        "--retention-days",
        type=_positive_int,
        default=None,
        help="days to keep (default VOICE_RETENTION_DAYS)",
    )
    purge_parser.add_argument(
        "--dry-run",
        action="store_true",
        help="only count what would be purged",
    )
    purge_parser.set_defaults(handler=purge_command)

    backup_parser = commands.add_parser(
        "backup",
        help="write the database to Blob Storage as gzip JSON Lines",
        description="Write each table (sign-in tokens and export jobs excepted) "
        "from one consistent snapshot to BACKUP_PREFIX/<backup id>/ in the "
        "storage container, with a manifest of row counts and SHA-256 digests. "
        "Recordings are listed, not copied. Prints the backup id.",
    )
    backup_parser.set_defaults(handler=backup_command)

    restore_parser = commands.add_parser(
        "restore",
        help="load a backup into an empty, migrated database",
        description="Check every file of the backup against the manifest's "
        "digests, then load all tables in one transaction. Refuses a database "
        "with rows in any backed-up table, one at another schema revision, and "
        "a backup whose files do not match.",
    )
    restore_parser.add_argument("backup_id", help="the id printed by backup")
    restore_parser.set_defaults(handler=restore_command)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    args.handler(args)


if __name__ == "__main__":
    main()

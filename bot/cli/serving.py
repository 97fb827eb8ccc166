"""`procurebot serve` and `user`: the web app started, a users-file entry made."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli.terminal import app, logger, people_errors, progress_bar, read_settings
from bot.logs import setup_logging


@app.command()
def user(
    name: Annotated[str, typer.Argument(help="The login name.")],
    role: Annotated[str, typer.Option(help="user, reviewer or admin.")] = "user",
) -> None:
    """Print a users-file entry for NAME with a hashed password (asked for, never echoed)."""
    from bot.workspace.access import ROLES, hash_password

    if (
        role not in ROLES
        or not name.strip()
        or not name.replace("-", "").replace("_", "").isalnum()
    ):
        typer.echo(
            f"procurebot: error: the name is letters, digits, - and _; the role one of "
            f"{', '.join(ROLES)}.",
            err=True,
        )
        raise typer.Exit(2)
    password = typer.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    if len(password) < 8:
        typer.echo("procurebot: error: use a password of at least 8 characters.", err=True)
        raise typer.Exit(2)
    typer.echo(f'[users.{name}]\nrole = "{role}"\npassword = "{hash_password(password)}"')


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 7860).")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress.")] = False,
) -> None:
    """Start the web app: chat, review, questionnaires and documents."""
    overrides = {key: value for key, value in (("host", host), ("port", port)) if value is not None}
    settings = read_settings(**overrides)
    setup_logging(settings.data_dir, verbose)
    with people_errors():
        from bot.workspace.access import Directory
        from bot.workspace.service import Workspace
        from index.location import ChromaServer

        directory = Directory.load(settings.users_file) if settings.users_file else None
        if directory is None and settings.host not in ("127.0.0.1", "localhost", "::1"):
            logger.warning(
                "serving on %s without login: anyone who can reach it sees every conversation; "
                "set PROCUREBOT_USERS_FILE (README, 'Access')",
                settings.host,
            )
        workspace = Workspace.open(settings, progress_bar("Building the index (first use)"))
        from ui.app import launch

        location = settings.store_location
        index = f" (index {location.where})" if isinstance(location, ChromaServer) else ""
        typer.echo(
            f"procurebot: serving on http://{settings.host}:{settings.port}{index}", err=True
        )
        launch(workspace, settings.host, settings.port, directory=directory, block=True)

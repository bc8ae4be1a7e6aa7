"""`hub users set-password|invite`: how a person gets into the pages.

``set-password`` reads the password from a hidden prompt (or stdin with --stdin, for scripts),
never from an argument, which would land in the shell's history and in ``ps``.
"""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from hub.context import current_hub
from hub.services.directory import sign_in, workflows


@click.group(cls=AppGroup)
def users() -> None:
    """People who sign in to the pages."""


@users.command("set-password")
@click.argument("email")
@click.option("--stdin", "from_stdin", is_flag=True, help="Read the password from standard input.")
def set_password(email: str, from_stdin: bool) -> None:
    """Set EMAIL's password (at least 10 characters); it also ends a lockout."""
    password = (sys.stdin.readline().rstrip("\n") if from_stdin
                else click.prompt("Password", hide_input=True, confirmation_prompt=True))
    user = sign_in.set_password(current_hub(), email, password)
    click.echo(f"password set for {user.email} ({user.role})")


@users.command()
@click.argument("email")
@click.option("--role", type=click.Choice(workflows.USER_ROLES), default=None,
              help="Create the user with this role when there is none yet.")
@click.option("--name", default=None)
def invite(email: str, role: str | None, name: str | None) -> None:
    """Print a one-time link with which EMAIL chooses a password (valid HUB_INVITE_HOURS)."""
    hub = current_hub()
    if role is not None and not any(u.email == email.strip().lower() for u in workflows.list_users(hub)):
        workflows.create_user(hub, {"email": email, "role": role, "name": name, "status": "not_invited"})
    token = sign_in.invite(hub, email)
    base = (hub.settings.public_url or f"http://127.0.0.1:{hub.settings.port}").rstrip("/")
    click.echo(f"{base}/invite/{token}")

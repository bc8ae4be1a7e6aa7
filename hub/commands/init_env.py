"""`hub init-env`: write the local settings `make run` uses into .env, once.

Every `hub ...` command reads .env in its working directory, so with these settings in the
file a second terminal (`hub runs replay`, `hub try-webhook`) sees what `hub serve` sees.
"""

from __future__ import annotations

import secrets

import click

from hub.config import Settings, add_to_dotenv, read_environment

DOTENV = ".env"
ADMIN_KEY = "HUB_ADMIN_API_KEY"


def local_defaults() -> dict[str, str]:
    """For trying the hub on 127.0.0.1 only; a fresh secret key per checkout."""
    return {
        "HUB_SECRET_KEY": secrets.token_urlsafe(32),
        ADMIN_KEY: "dev-admin-key",
        "HUB_STRIPE_WEBHOOK_SECRET": "whsec_local_demo_secret",  # `hub try-webhook` signs with it
        "HUB_PORT": str(Settings().port),
        # `hub demo` gives the demo admin this password; `hub serve` prints it with the address.
        "HUB_DEMO_ADMIN_PASSWORD": secrets.token_urlsafe(12),
    }


@click.command("init-env")
def init_env() -> None:
    """Add the local settings (admin key, Stripe test secret, secret key, port) missing from .env."""
    written = add_to_dotenv(local_defaults(), dotenv_path=DOTENV)
    click.echo(f"{DOTENV}: added {', '.join(written)}" if written
               else f"{DOTENV}: has every local setting already (nothing changed)")
    admin_key = read_environment(dotenv_path=DOTENV).get(ADMIN_KEY)
    click.echo(f"Admin API key for this local hub: {admin_key}")

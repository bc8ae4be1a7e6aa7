"""`hub try-webhook`: sign a Stripe customer event with the configured secret and post it to a
running hub, so a newcomer can watch the whole pipeline without a Stripe account."""

from __future__ import annotations

import json
import time

import click
import requests
import stripe
from flask.cli import with_appcontext

from hub.context import current_hub

TIMEOUT_SECONDS = 10
# Our vocabulary → a Stripe PaymentMethod type that maps back to it.
STRIPE_TYPE = {"card": "card", "sepa_debit": "sepa_debit", "ach_debit": "us_bank_account",
               "bacs_debit": "bacs_debit", "direct_debit": "au_becs_debit", "paypal": "paypal",
               "bank_transfer": "customer_balance"}


@click.command("try-webhook")
@click.option("--customer", default="cus_try_1", show_default=True, help="Stripe customer id.")
@click.option("--method", type=click.Choice(sorted(STRIPE_TYPE)), default="card", show_default=True)
@click.option("--url", default=None, help="Hub base URL (default http://127.0.0.1:HUB_PORT).")
@with_appcontext
def try_webhook(customer: str, method: str, url: str | None) -> None:
    """Post a signed Stripe customer.created event whose default payment method is METHOD."""
    settings = current_hub().settings
    secret = settings.env.get("HUB_STRIPE_WEBHOOK_SECRET")
    if not secret:
        raise click.ClickException("HUB_STRIPE_WEBHOOK_SECRET is not set: run `hub init-env` to write "
                                   "the local one into .env, or set the one the hub uses")
    body = json.dumps(_event(customer, STRIPE_TYPE[method])).encode()
    at = int(time.time())
    signature = stripe.WebhookSignature._compute_signature(f"{at}.{body.decode()}", secret)
    base = url or f"http://127.0.0.1:{settings.port}"
    answer = _post(base, body, {"Stripe-Signature": f"t={at},v1={signature}",
                                "Content-Type": "application/json"})
    click.echo(f"{answer.status_code} {answer.text.strip()}")
    click.echo(f"then: GET /api/v1/customers/external:{customer} and GET /api/v1/runs?customer={customer}")


def _post(base: str, body: bytes, headers: dict[str, str]) -> requests.Response:
    """The event posted to the hub at ``base``; no hub there, or a refusal, is one line to act on."""
    try:
        answer = requests.post(f"{base}/webhooks/stripe", data=body, headers=headers,
                               timeout=TIMEOUT_SECONDS)
    except requests.ConnectionError as exc:
        raise click.ClickException(f"nothing answers at {base}: start the hub (`make run` or "
                                   "`hub serve`) in this folder, or give its address with --url") from exc
    except requests.RequestException as exc:
        raise click.ClickException(f"no usable answer from {base} ({type(exc).__name__}): is the hub "
                                   "running there? `hub serve` starts it") from exc
    if answer.status_code in (400, 401):
        raise click.ClickException(f"the hub refused the event ({answer.status_code} "
                                   f"{' '.join(answer.text.split())[:300]}): HUB_STRIPE_WEBHOOK_SECRET "
                                   "here must be the one `hub serve` uses (`hub init-env` writes both)")
    if answer.status_code >= 300:
        raise click.ClickException(f"the hub answered {answer.status_code} "
                                   f"{' '.join(answer.text.split())[:300]}: see its log")
    return answer


def _event(customer: str, stripe_type: str) -> dict:
    """A customer.created as Stripe sends it, with the default payment method expanded (as if
    fetched), so no Stripe API key is needed to try the hub."""
    stamp = int(time.time())
    obj = {"id": customer, "object": "customer", "name": f"Try {customer}", "email": None,
           "currency": "usd", "metadata": {}, "default_source": None,
           "invoice_settings": {"default_payment_method": {"id": f"pm_try_{stamp}", "type": stripe_type}}}
    return {"id": f"evt_try_{stamp}_{customer}", "object": "event", "type": "customer.created",
            "created": stamp, "livemode": False, "data": {"object": obj}}


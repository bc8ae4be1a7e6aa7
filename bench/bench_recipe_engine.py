"""Benchmark: evaluations per second of the shipped Stripe recipe on one core."""

from __future__ import annotations

import argparse
import os
import sys
import timeit
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hub.recipes import evaluate, evaluate_all, load_recipe_dir, load_recipe_file  # noqa: E402

RECIPE = ROOT / "recipes" / "stripe-payment-method-to-workflow.yaml"
TARGET = 50_000

# A realistic normalised event: a Stripe customer switched its default payment method to SEPA.
EVENT = {
    "id": "evt_hub_01J9Z6Q4T3",
    "connection": "stripe",
    "connector": "stripe",
    "type": "customer.payment_method.changed",
    "vendor_event_id": "evt_1QF2a3LkdIwHu7ixq9s8Gx2B",
    "occurred_at": "2026-11-02T09:14:03Z",
    "customer": {
        "external_id": "cus_R8x2LmQpZ4fT1a",
        "name": "Acme Logistics LLC",
        "email": "billing@acme-logistics.example",
        "currency": "eur",
        "payment_method": "sepa_debit",
        "owner_email": None,
        "custom_fields": {"segment": "enterprise", "region": "emea"},
    },
    "changes": ["customer.payment_method"],
    "raw_ref": "inbox:48213",
}
SNAPSHOT = {
    "external_id": "cus_R8x2LmQpZ4fT1a",
    "dunningPlanId": "dp_standard",
    "workflow_name": "Standard",
    "account_managers": ["jane.doe@example.com"],
    "custom_fields": {"segment": "enterprise"},
}


def pin_to_one_core() -> str:
    """Run on a single CPU where the OS lets us choose (Linux)."""
    if hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    return "not pinned (no sched_setaffinity here)"


def measure(number: int, repeat: int) -> float:
    """Best-of-`repeat` evaluations per second of the Stripe recipe alone."""
    recipe = load_recipe_file(RECIPE)
    result = evaluate(recipe, EVENT, SNAPSHOT)
    if len(result.plan) != 2:
        raise SystemExit(f"unexpected plan: {result.plan}")
    timings = timeit.repeat(lambda: evaluate(recipe, EVENT, SNAPSHOT), number=number,
                            repeat=repeat)
    return number / min(timings)


def measure_all(number: int, repeat: int) -> float:
    """The same event through evaluate_all over every shipped recipe (what a worker runs)."""
    recipes = load_recipe_dir(RECIPE.parent)
    timings = timeit.repeat(lambda: evaluate_all(recipes, EVENT, SNAPSHOT), number=number,
                            repeat=repeat)
    return number / min(timings)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--number", type=int, default=100_000, help="evaluations per round")
    parser.add_argument("--repeat", type=int, default=5, help="rounds (the best one counts)")
    args = parser.parse_args()
    where = pin_to_one_core()
    rate = measure(args.number, args.repeat)
    verdict = "OK" if rate >= TARGET else "BELOW TARGET"
    print(f"recipe engine: {rate:,.0f} evaluations/s of {RECIPE.name} "
          f"({where}; target {TARGET:,}) {verdict}")
    rate_all = measure_all(args.number // 2, args.repeat)
    print(f"evaluate_all over every shipped recipe, same event: {rate_all:,.0f} events/s")
    return 0 if rate >= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())

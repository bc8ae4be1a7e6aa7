"""Sign in, sign out and accept an invite: the only pages open to someone not signed in."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request

from hub.context import current_hub
from hub.errors import AuthenticationRequired, InvalidInput
from hub.services.directory import sign_in as svc
from hub.web.pages.access import end_session, start_session

bp = Blueprint("sign_in", __name__)
PUBLIC = {"pages.sign_in.sign_in_form", "pages.sign_in.sign_in", "pages.sign_in.invite_form",
          "pages.sign_in.accept_invite"}


def safe_next(target: str | None) -> str:
    """Only a path on this hub: ``next=https://elsewhere`` must not turn sign-in into a redirector."""
    if not target or not target.startswith("/") or target.startswith("//") or urlsplit(target).netloc:
        return "/"
    return target


@bp.get("/sign-in")
def sign_in_form():
    return render_template("pages/sign_in.html", next=safe_next(request.args.get("next")))


@bp.post("/sign-in")
def sign_in():
    email = request.form.get("email", "")[:320]
    target = safe_next(request.form.get("next"))
    try:
        token = svc.sign_in(current_hub(), email, request.form.get("password", ""))
    except AuthenticationRequired as refused:
        return render_template("pages/sign_in.html", next=target, email=email,
                               error=refused.message), 401
    return start_session(redirect(target, 303), token)


@bp.post("/sign-out")
def sign_out():
    svc.sign_out(current_hub(), request.cookies.get("hub_session"))
    return end_session(redirect("/sign-in", 303))


@bp.get("/invite/<token>")
def invite_form(token: str):
    user = svc.invited_user(current_hub(), token[:100])
    return render_template("pages/invite.html", user=user, token=token)


@bp.post("/invite/<token>")
def accept_invite(token: str):
    password = request.form.get("password", "")
    user = svc.invited_user(current_hub(), token[:100])
    if password != request.form.get("confirm", ""):
        return render_template("pages/invite.html", user=user, token=token,
                               error="the two passwords differ"), 400
    try:
        session_token = svc.accept_invite(current_hub(), token[:100], password)
    except InvalidInput as refused:
        return render_template("pages/invite.html", user=user, token=token, error=refused.message), 400
    return start_session(redirect("/", 303), session_token)

"""A signed-in person's saved language: loaded into their session when they sign in, changed
with the language switch, read by ``config.middleware.LanguageMiddleware`` before the switch's
cookie. The preference itself is a ``StaffPreference`` row, written by ``staff_language_set``.

Kept in the session so that no page pays a query for it; a change made on another device
reaches this one at its next sign-in.
"""

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views import i18n

from partners import selectors, services
from partners.actors import Actor

SESSION_KEY = "sanpo_language"


def _speaks(language: Any) -> bool:
    return language in {code for code, _name in settings.LANGUAGES}


def saved_language(request: HttpRequest) -> str | None:
    """The saved language of the person signed in with this request's session, or None."""
    session = getattr(request, "session", None)
    language = session.get(SESSION_KEY) if session is not None else None
    return language if _speaks(language) else None


def remember_saved_language(sender: Any, request: HttpRequest | None, user: Any, **kw: Any) -> None:
    """``user_logged_in``: put the person's saved language, if any, in their new session."""
    session = getattr(request, "session", None)
    if session is None:
        return
    language = selectors.staff_language_of(user)
    if language:
        session[SESSION_KEY] = language
    else:
        session.pop(SESSION_KEY, None)


def set_language(request: HttpRequest) -> HttpResponse:
    """Django's ``set_language`` (the switch's cookie, and the redirect to ``next``); for a
    signed-in person the choice is also saved, audited, as their preference, so it follows
    them to every device and outlives the cookie."""
    response = i18n.set_language(request)
    language = request.POST.get(i18n.LANGUAGE_QUERY_PARAMETER, "")
    user = getattr(request, "user", None)
    if request.method != "POST" or not _speaks(language):
        return response
    if user is None or not user.is_authenticated:
        return response  # the cookie is all a person who is not signed in keeps
    services.staff_language_set(user=user, language=language, actor=Actor.from_request(request))
    request.session[SESSION_KEY] = language
    return response

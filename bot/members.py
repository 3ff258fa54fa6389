"""Who a Slack user is in Google: their verified Slack profile address (`users.info`, scope users:read.email),
then the service's mapping to their Google user (`JobService.member`). Nothing the client sends is trusted for
it: the user id is the one Slack signed the request with, and the address is asked of Slack. Each Slack
answer is trusted for CONTACTSYNC_MEMBER_CACHE_SECONDS."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from sync_core.domain.text import clip
from sync_core.service import JobService, Member, MySync, NotAMember

log = logging.getLogger(__name__)

NO_ADDRESS = ("Your Slack profile shows no verified email address, so I can't tell which Google account is yours. "
              "Nothing was changed.")


class SlackMembers:
    def __init__(self, client: WebClient, service: JobService, *, ttl_seconds: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.service = service
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._emails: dict[str, tuple[float, str | None]] = {}
        self._lock = threading.Lock()

    def member(self, slack_user_id: str) -> Member:
        """The Google user this Slack user is; `NotAMember` (its message for them) when there is none."""
        email = self._email(slack_user_id)
        if not email:
            raise NotAMember(NO_ADDRESS)
        return self.service.member(email, actor=slack_user_id)

    def syncs(self, slack_user_id: str) -> list[MySync]:
        """The syncs that reach this Slack user (or that they left, or may join); `NotAMember` as above."""
        return self.service.my_syncs(self.member(slack_user_id))

    def _email(self, slack_user_id: str) -> str | None:
        now = self._clock()
        with self._lock:
            known = self._emails.get(slack_user_id)
            if known is not None and now - known[0] < self.ttl_seconds:
                return known[1]
        try:
            user = self.client.users_info(user=slack_user_id).get("user") or {}
        except SlackApiError as exc:  # not cached: Slack may answer next time
            log.info("users.info for %s: %s", clip(slack_user_id, 40), clip(exc.response.get("error"), 40))
            return None
        profile = user.get("profile") or {}
        verified = (not user.get("deleted") and not user.get("is_bot") and user.get("is_email_confirmed") is True)
        email = str(profile.get("email") or "").strip().lower() if verified else ""
        with self._lock:
            self._emails[slack_user_id] = (now, email or None)
        return email or None

"""Telling people about requests in Slack, from the bot and from the CLI alike: the admins' message in
CONTACTSYNC_ADMIN_CHANNEL (with Approve and Deny), its update once decided, and the direct message to the
requester (`chat.postMessage` to their user id: the app's DM with them). A Slack refusal is logged and said,
never raised: the decision stands whatever Slack answers."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from sync_core.domain.text import clip
from sync_core.service import JobService, RequestView

from .blocks.requests import decided_text, request_blocks, request_text, requester_text

log = logging.getLogger(__name__)


class RequestPoster:
    def __init__(self, client: WebClient, service: JobService, admin_channel: str | None) -> None:
        self.client = client
        self.service = service
        self.admin_channel = admin_channel

    def post(self, request: RequestView) -> bool:
        """The request, with its buttons, in the admin channel; False when there is none or Slack refused."""
        if not self.admin_channel:
            log.warning("request %s: no CONTACTSYNC_ADMIN_CHANNEL to post it in", request.id)
            return False
        try:
            answer = self.client.chat_postMessage(channel=self.admin_channel, text=request_text(request),
                                                  blocks=request_blocks(request))
        except SlackApiError as exc:
            log.warning("cannot post request %s: %s", request.id, clip(exc.response.get("error"), 40))
            return False
        ts = str(answer.get("ts") or "")
        if ts:
            self.service.set_request_message(request.id, channel=self.admin_channel, ts=ts)
        return True

    def decided(self, request: RequestView) -> bool:
        """The admins' message shows the decision (no buttons any more); the requester is told by DM."""
        fresh = self.service.request(request.id) or request  # with the message's place
        if fresh.channel and fresh.message_ts:
            try:
                self.client.chat_update(channel=fresh.channel, ts=fresh.message_ts,
                                        text=decided_text(fresh), blocks=request_blocks(fresh))
            except SlackApiError as exc:
                log.info("cannot update request %s's message: %s", fresh.id, clip(exc.response.get("error"), 40))
        return self.tell_requester(fresh)

    def tell_expired(self) -> int:
        """Each request that expired undecided since, told like a decision (the admins' message without its
        buttons, the requester's DM), once whichever replica asks: `serve` asks at each reconcile. How many."""
        expired = self.service.expired_requests_to_tell()
        for request in expired:
            log.info("request %s (%s) expired undecided", request.id, clip(request.job_name, 80))
            self.decided(request)
        return len(expired)

    def tell_requester(self, request: RequestView) -> bool:
        if request.requested_by == "cli" or not request.requested_by:
            return False
        try:
            self.client.chat_postMessage(channel=request.requested_by, text=requester_text(request))
        except SlackApiError as exc:
            log.warning("cannot tell %s about request %s: %s", clip(request.requested_by, 40), request.id,
                        clip(exc.response.get("error"), 40))
            return False
        return True
